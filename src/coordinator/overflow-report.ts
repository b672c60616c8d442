/**
 * Reports, every interval in which it happened, how many responses found their server's client
 * table full and shared the overflow bucket: a table too small for the crowd shows in the log for
 * as long as it lasts, not once per process.
 */
import type { ServerPlan } from '../config/plan.js';
import { formatInteger } from '../config/rate-units.js';
import { describeListen } from '../config/strport.js';
import { overflowFlows } from '../shaping/client-table.js';

const REPORT_EVERY_MS = 10_000;

/** Starts reporting; returns the function that stops it. */
export function reportOverflow(servers: readonly ServerPlan[], shapers: ReadonlyArray<SharedArrayBuffer | null>, log: (line: string) => void): () => void {
  const watched = servers.flatMap((server) => {
    const memory = shapers[server.id];
    return memory && server.shape ? [{ server, view: new BigInt64Array(memory), seen: 0 }] : [];
  });
  if (watched.length === 0) return () => {};
  const timer = setInterval(() => {
    for (const entry of watched) {
      const total = overflowFlows(entry.view);
      if (total === entry.seen) continue;
      log(
        `${describeListen(entry.server.listen)}: ${formatInteger(total - entry.seen)} responses found the client table full ` +
          `(${formatInteger(entry.server.shape!.tableSize)} slots) and shared the overflow bucket in the last ${REPORT_EVERY_MS / 1000} s; ` +
          'raise --shape-table-size',
      );
      entry.seen = total;
    }
  }, REPORT_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
