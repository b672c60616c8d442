/**
 * Response counters in shared memory, for the control plane's /metrics: per (site, worker slot)
 * three 64-byte lines (a site is a server's own host or one of its virtual hosts: siteIndex()), written only by that worker (counted locally, published a few times
 * a second) and summed by the coordinator: responses by status class (and those the client left
 * before any status went out), body bytes, and a histogram of response times.
 */
const WORDS_PER_SET = 24;
/** Word of each counter within a set. */
const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx', 'aborted'] as const;
const kBodyBytes = 6;
const kDurationSumMicros = 7;
const kFirstBucket = 8;
/** Upper bounds of the response-time buckets, in seconds (the last one is +Inf). */
export const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, Infinity] as const;

export type StatusClass = (typeof STATUS_CLASSES)[number];

export function createResponseStats(sites: number, workerSlots: number): SharedArrayBuffer {
  return new SharedArrayBuffer(sites * workerSlots * WORDS_PER_SET * 8);
}

/** Sites of every server in plan order: each server's own, then its virtual hosts'. */
export function siteCount(servers: ReadonlyArray<{ readonly vhosts: readonly unknown[] }>): number {
  return servers.reduce((sum, server) => sum + 1 + server.vhosts.length, 0);
}

/** The counters index of site `site` (0: the server's own, i + 1: its virtual host i) of server `serverId`. */
export function siteIndex(servers: ReadonlyArray<{ readonly vhosts: readonly unknown[] }>, serverId: number, site: number): number {
  return siteCount(servers.slice(0, serverId)) + site;
}

/** How often a worker publishes what it counted (and never more than this stale). */
export const PUBLISH_MS = 250;

/** One site's counters in one worker. */
export class ResponseCounters {
  readonly #view: BigInt64Array;
  readonly #base: number;
  readonly #local = new Float64Array(WORDS_PER_SET);
  #dirty = false;

  constructor(memory: SharedArrayBuffer, site: number, workerSlot: number, workerSlots: number) {
    this.#view = new BigInt64Array(memory);
    this.#base = (site * workerSlots + workerSlot) * WORDS_PER_SET;
  }

  /** A response ended: its status (0: the client left before one went out), body bytes and time. */
  ended(status: number, bodyBytes: number, seconds: number): void {
    const local = this.#local;
    local[status === 0 ? 5 : Math.min(4, Math.max(0, Math.floor(status / 100) - 1))]! += 1;
    local[kBodyBytes]! += bodyBytes;
    local[kDurationSumMicros]! += Math.round(seconds * 1e6);
    let bucket = 0;
    while (seconds > DURATION_BUCKETS[bucket]!) bucket++;
    local[kFirstBucket + bucket]! += 1;
    this.#dirty = true;
  }

  /** Adds what was counted locally to the shared lines. */
  publish(): void {
    if (!this.#dirty) return;
    const local = this.#local;
    for (let i = 0; i < WORDS_PER_SET; i++) {
      if (local[i] === 0) continue;
      Atomics.add(this.#view, this.#base + i, BigInt(local[i]!));
      local[i] = 0;
    }
    this.#dirty = false;
  }
}

export interface ResponseTotals {
  readonly byClass: Readonly<Record<StatusClass, number>>;
  readonly bodyBytes: number;
  readonly durationSumSeconds: number;
  /** Responses per bucket of DURATION_BUCKETS (not cumulative). */
  readonly buckets: readonly number[];
}

/** Totals of one site (siteIndex) over every worker slot. */
export function readResponseTotals(memory: SharedArrayBuffer, site: number, workerSlots: number): ResponseTotals {
  const view = new BigInt64Array(memory);
  const sums = new Array<number>(WORDS_PER_SET).fill(0);
  for (let slot = 0; slot < workerSlots; slot++) {
    const base = (site * workerSlots + slot) * WORDS_PER_SET;
    for (let i = 0; i < WORDS_PER_SET; i++) sums[i]! += Number(Atomics.load(view, base + i));
  }
  return {
    byClass: Object.fromEntries(STATUS_CLASSES.map((name, i) => [name, sums[i]!])) as Record<StatusClass, number>,
    bodyBytes: sums[kBodyBytes]!,
    durationSumSeconds: sums[kDurationSumMicros]! / 1e6,
    buckets: DURATION_BUCKETS.map((_, i) => sums[kFirstBucket + i]!),
  };
}
