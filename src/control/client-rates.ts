/**
 * Achieved rates per client: the control plane samples every client slot's sent-bytes counter
 * (a 32-bit count that wraps: differences are taken modulo 2^32) once a second and keeps the last
 * ten seconds, so a listing shows what each client got over the last 1 s and 10 s. Only clients
 * in the table now are kept.
 */
import { liveClients } from '../shaping/client-table.js';
import type { ControlledServer } from './controlled-server.js';

const KEPT = 11;

interface History {
  readonly times: number[];
  readonly counts: number[];
}

export interface AchievedRate {
  /** Bytes per second over the last second and the last ten (or as many as there are). */
  readonly rate1s: number;
  readonly rate10s: number;
}

/** The key of a client slot in the samples: the line and the client it holds. */
export const sampleKey = (server: number, line: number, high: bigint, low: bigint): string => `${server}:${line}:${high}:${low}`;

export class ClientRates {
  readonly #servers: readonly ControlledServer[];
  readonly #now: () => number;
  #history = new Map<string, History>();

  constructor(servers: readonly ControlledServer[], now: () => number = () => performance.now()) {
    this.#servers = servers;
    this.#now = now;
  }

  /** Reads every counter (about once a second). */
  sample(): void {
    const now = this.#now();
    const next = new Map<string, History>();
    for (const server of this.#servers) {
      if (server.shaper === null) continue;
      for (const client of liveClients(new BigInt64Array(server.shaper))) {
        const key = sampleKey(server.plan.id, client.line, client.high, client.low);
        const history = this.#history.get(key) ?? { times: [], counts: [] };
        history.times.push(now);
        history.counts.push(client.sent);
        if (history.times.length > KEPT) {
          history.times.shift();
          history.counts.shift();
        }
        next.set(key, history);
      }
    }
    this.#history = next;
  }

  /** What the client in `key` (sampleKey) got; zeros before two samples. */
  rate(key: string): AchievedRate {
    const history = this.#history.get(key);
    if (history === undefined || history.times.length < 2) return { rate1s: 0, rate10s: 0 };
    const last = history.times.length - 1;
    const over = (from: number): number => {
      const seconds = (history.times[last]! - history.times[from]!) / 1000;
      return seconds > 0 ? Math.round((((history.counts[last]! - history.counts[from]!) >>> 0) / seconds)) : 0;
    };
    return { rate1s: over(last - 1), rate10s: over(0) };
  }
}
