/**
 * Counters of trouble that grows while it lasts (a full client table, connections refused at the
 * cap) are reported every interval in which they moved, not once per process: the log shows for
 * how long it went on and how much.
 */
import type { ShapePlan } from '../config/plan.js';
import { formatInteger } from '../config/rate-units.js';
import { overflowFlows } from '../shaping/client-table.js';
import { shedConnections } from '../worker/connection-limit.js';
import type { Subsystem } from './lifecycle.js';

const REPORT_EVERY_MS = 10_000;

/** A counter that only grows, and how to say what an interval added. */
export interface CounterReport {
  read(): number;
  describe(added: number, seconds: number): string;
}

/** Reports every `everyMs` while running. */
export function counterReporting(reports: readonly CounterReport[], log: (line: string) => void, everyMs = REPORT_EVERY_MS): Subsystem {
  let timer: NodeJS.Timeout | undefined;
  return {
    name: 'counter reports',
    async start() {
      const seen = reports.map((report) => report.read());
      timer = setInterval(() => {
        reports.forEach((report, i) => {
          const total = report.read();
          if (total !== seen[i]) log(report.describe(total - seen[i]!, everyMs / 1000));
          seen[i] = total;
        });
      }, everyMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
    },
  };
}

/** Responses that found a server's client table full. */
export function overflowReport(where: string, shape: ShapePlan, shaper: SharedArrayBuffer): CounterReport {
  const view = new BigInt64Array(shaper);
  return {
    read: () => overflowFlows(view),
    describe: (added, seconds) =>
      `${where}: ${formatInteger(added)} responses found the client table full ` +
      `(${formatInteger(shape.tableSize)} slots) and shared the overflow bucket in the last ${seconds} s; raise --shape-table-size`,
  };
}

/** Connections closed because the process was at --max-connections. */
export function shedReport(counters: SharedArrayBuffer, max: number): CounterReport {
  return {
    read: () => shedConnections(counters),
    describe: (added, seconds) =>
      `${formatInteger(added)} connections closed at the --max-connections limit of ${formatInteger(max)} in the last ${seconds} s`,
  };
}
