/**
 * Shaping counters in shared memory: one 64-byte line per (server, worker slot), written only by
 * that worker (so no two threads contend for a line) and summed by the coordinator when it reads.
 */

export const kShapedBytes = 0;
export const kShapedWrites = 1;
/** Nanoseconds flows spent waiting for tokens, added up. */
export const kWaitNanos = 2;
const WORDS_PER_LINE = 8;

export interface ShapingTotals {
  readonly bytes: number;
  readonly writes: number;
  /** Seconds flows spent waiting for tokens, added up. */
  readonly waitSeconds: number;
}

export function createStatsMemory(servers: number, workerSlots: number): SharedArrayBuffer {
  return new SharedArrayBuffer(servers * workerSlots * WORDS_PER_LINE * 8);
}

/** Writes counted locally before they are published (keeps shared-memory traffic per write nil). */
const PUBLISH_EVERY = 64;

/** The counters line of one server in one worker. */
export class ShapingCounters {
  readonly #view: BigInt64Array;
  readonly #base: number;
  #bytes = 0;
  #writes = 0;

  constructor(memory: SharedArrayBuffer, serverId: number, workerSlot: number, workerSlots: number) {
    this.#view = new BigInt64Array(memory);
    this.#base = (serverId * workerSlots + workerSlot) * WORDS_PER_LINE;
  }

  /** One shaped write of `bytes` went to a socket. */
  wrote(bytes: number): void {
    this.#bytes += bytes;
    if (++this.#writes >= PUBLISH_EVERY) this.publish();
  }

  /** A flow ended after waiting `nanos` for tokens (a few a second per flow at most: added at once). */
  waited(nanos: number): void {
    Atomics.add(this.#view, this.#base + kWaitNanos, BigInt(Math.round(nanos)));
  }

  /** Adds what was counted locally to the shared line (also done before the worker exits). */
  publish(): void {
    if (this.#writes === 0) return;
    Atomics.add(this.#view, this.#base + kShapedBytes, BigInt(this.#bytes));
    Atomics.add(this.#view, this.#base + kShapedWrites, BigInt(this.#writes));
    this.#bytes = 0;
    this.#writes = 0;
  }
}

/** Totals of one server over all worker slots. */
export function readTotals(memory: SharedArrayBuffer, serverId: number, workerSlots: number): ShapingTotals {
  const view = new BigInt64Array(memory);
  let bytes = 0n;
  let writes = 0n;
  let waited = 0n;
  for (let slot = 0; slot < workerSlots; slot++) {
    const base = (serverId * workerSlots + slot) * WORDS_PER_LINE;
    bytes += Atomics.load(view, base + kShapedBytes);
    writes += Atomics.load(view, base + kShapedWrites);
    waited += Atomics.load(view, base + kWaitNanos);
  }
  return { bytes: Number(bytes), writes: Number(writes), waitSeconds: Number(waited) / 1e9 };
}
