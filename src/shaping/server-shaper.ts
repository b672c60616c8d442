/**
 * A server's shaper as a worker sees it: the shared bucket memory, this worker's pacing
 * scheduler, and flows. A flow is one response body being paced: each chunk is reserved first
 * from its client's bucket and, once the client bucket releases it, from the server bucket (so
 * server budget is never held by chunks still waiting on their client), then waits for the socket.
 */
import { activeFlows, acquireSlot, releaseSlot } from './client-table.js';
import type { ClientKey } from './client-key.js';
import { chunkBytes, MAX_CHUNK_BYTES } from './chunk-size.js';
import { costNanos, refund, reserve } from './gcra.js';
import {
  kOverflowSlot,
  kClientBurstBytes,
  kClientRateBytesPerSec,
  kHashSeedInt32,
  kLimitsVersionInt32,
  kServerActiveFlows,
  kServerBurstBytes,
  kServerRateBytesPerSec,
  kServerTatNanos,
  kSlotTatNanos,
  overrideRateInt32,
  sentBytesInt32,
  endedInt32,
  slotBase,
} from './layout.js';
import type { PacingScheduler, Ticket } from './scheduler.js';

/** What the body sender asks of a paced flow. */
export interface TokenGate {
  /** Bytes (at most `available`) that may be written now; 0 means wait for `onOpen`. */
  admit(available: number): number;
  /** `bytes` of what admit() allowed were handed to the socket. */
  spent(bytes: number): void;
  /** Set by the sender; called when admit() may return more than 0 again. */
  onOpen: (() => void) | null;
  /** The body is done or abandoned: give back what can be, stop counting this flow. */
  close(): void;
  /** The lowest rate in force among its buckets now (bytes per second), 0 when none limits it. */
  limit(): number;
}

/** Nanosecond clock shared by all threads (process.hrtime is CLOCK_MONOTONIC, process-wide). */
export type NanoClock = () => bigint;
export const hrClock: NanoClock = () => process.hrtime.bigint();

/** A chunk due this close to now goes at once: timers cannot do better than about a millisecond. */
const SLACK_NANOS = 1_000_000;
/** Chunks between two readings of the flow counts that size them (they change slowly). */
const RESIZE_EVERY = 8;
/**
 * A longer wait is looked at again meanwhile: a limit changed at runtime (the control plane, a
 * schedule) then reaches a flow waiting at the old one within this time. Above the wait between
 * 1-KiB chunks at 10 kB/s, so steady slow flows wake no more often for it.
 */
const RECHECK_NANOS = 150_000_000;

export interface ShaperHooks {
  readonly clock?: NanoClock;
  /** A paced write of `bytes` went to a socket (statistics). */
  readonly onWrite?: (bytes: number) => void;
  /** A flow ended after waiting this long for tokens in all (statistics). */
  readonly onWaited?: (nanos: number) => void;
}

/** The four limits as plain numbers (bytes per second, bytes; rate 0 = unlimited). */
interface Limits {
  clientRate: number;
  clientBurst: number;
  serverRate: number;
  serverBurst: number;
}

export class ServerShaper {
  readonly view: BigInt64Array;
  /** The same memory as 32-bit words (the limits version, per-client limits). */
  readonly words32: Int32Array;
  readonly scheduler: PacingScheduler;
  readonly now: NanoClock;
  readonly onWrite: (bytes: number) => void;
  readonly onWaited: (nanos: number) => void;
  /** Seed of this server's client-key hashes (the same in every worker). */
  readonly seed: number;
  readonly #limits: Limits = { clientRate: 0, clientBurst: 0, serverRate: 0, serverBurst: 0 };
  #limitsVersion = -1;

  constructor(memory: SharedArrayBuffer, scheduler: PacingScheduler, hooks: ShaperHooks = {}) {
    this.view = new BigInt64Array(memory);
    this.words32 = new Int32Array(memory);
    this.scheduler = scheduler;
    this.now = hooks.clock ?? hrClock;
    this.onWrite = hooks.onWrite ?? (() => {});
    this.onWaited = hooks.onWaited ?? (() => {});
    this.seed = Atomics.load(this.words32, kHashSeedInt32);
  }

  /** Current limits; re-read from shared memory only when they changed. */
  limits(): Limits {
    const version = Atomics.load(this.words32, kLimitsVersionInt32);
    if (version !== this.#limitsVersion) {
      const view = this.view;
      const limits = this.#limits;
      limits.clientRate = Number(Atomics.load(view, kClientRateBytesPerSec));
      limits.clientBurst = Number(Atomics.load(view, kClientBurstBytes));
      limits.serverRate = Number(Atomics.load(view, kServerRateBytesPerSec));
      limits.serverBurst = Number(Atomics.load(view, kServerBurstBytes));
      // Re-check: a concurrent update mid-read leaves the version stale, so we read again next time.
      this.#limitsVersion = Atomics.load(this.words32, kLimitsVersionInt32) === version ? version : -1;
    }
    return this.#limits;
  }

  /** A flow whose client is `key` (shared per-client bucket), or null for a private bucket. */
  openFlow(key: ClientKey | null): TokenGate {
    return openNestedFlow([{ shaper: this, key }]);
  }
}

/** One level of a nested flow: a shaper (a server's, or a virtual host's inside it) and the client. */
export interface FlowScope {
  readonly shaper: ServerShaper;
  /** The client's key in this shaper's table, or null for a private per-response bucket. */
  readonly key: ClientKey | null;
}

/**
 * A flow through several shapers at once, innermost first (a virtual host's, then its server's):
 * every limit applies. Each chunk passes the client buckets first, then the aggregate buckets,
 * each reserved only once the one before released the chunk.
 */
export function openNestedFlow(scopes: readonly FlowScope[]): TokenGate {
  const buckets: Bucket[] = [];
  const clients: Bucket[] = [];
  for (const { shaper, key } of scopes) {
    const view = shaper.view;
    Atomics.add(view, kServerActiveFlows, 1n);
    if (key === null) {
      clients.push(new Bucket(shaper, 'client', new BigInt64Array(1), 0, -1));
    } else {
      const line = acquireSlot(view, key, shaper.now());
      clients.push(new Bucket(shaper, 'client', view, slotBase(line) + kSlotTatNanos, line));
    }
    buckets.push(new Bucket(shaper, 'server', view, kServerTatNanos, -1));
  }
  return new Flow(scopes[0]!.shaper, [...clients, ...buckets]);
}

/** A bucket a chunk must pass, and the TAT its last reservation produced (for refunds). */
class Bucket {
  tat = 0n;
  /** The cost of the last chunk size at the last rate, and the burst tolerance: worked out once, not per chunk. */
  #costBytes = -1;
  #costRate = -1;
  #cost = 0n;
  #toleranceRate = -1;
  #toleranceBurst = -1;
  #tolerance = 0;

  /** Int32 index of the client's own rate in its slot (the burst follows), or -1. */
  readonly #ownLimit: number;

  constructor(
    readonly shaper: ServerShaper,
    readonly kind: 'client' | 'server',
    readonly view: BigInt64Array,
    readonly index: number,
    /** Client table line, or -1 (a private bucket, or an aggregate). */
    readonly line: number,
  ) {
    // The overflow slot is shared by unknown clients: it has no limits or counts of its own.
    const ownSlot = kind === 'client' && line > kOverflowSlot;
    this.#ownLimit = ownSlot ? overrideRateInt32(line) : -1;
    this.sentCounter = ownSlot ? sentBytesInt32(line) : -1;
    this.endedCounter = ownSlot ? endedInt32(line) : -1;
  }

  /** Int32 index of the slot's ended-responses counter (the wait follows), or -1. */
  readonly endedCounter: number;

  /** Int32 index of the slot's sent-bytes counter, or -1. */
  readonly sentCounter: number;

  /** The rate this bucket runs at now: the client's own (set at runtime) or the level's. */
  rate(limits: Limits): number {
    if (this.#ownLimit >= 0) {
      const own = Atomics.load(this.shaper.words32, this.#ownLimit);
      if (own > 0) return own;
    }
    return this.kind === 'client' ? limits.clientRate : limits.serverRate;
  }

  /** The burst that goes with rate(). */
  burst(limits: Limits): number {
    if (this.#ownLimit >= 0 && Atomics.load(this.shaper.words32, this.#ownLimit) > 0) return Atomics.load(this.shaper.words32, this.#ownLimit + 1);
    return this.kind === 'client' ? limits.clientBurst : limits.serverBurst;
  }

  /**
   * How late a chunk this bucket made wait may go without costing bandwidth, in ms: lateness is
   * credited back only up to the burst (a bucket fuller than that does not bank the rest).
   */
  get toleranceMs(): number {
    return this.#tolerance / 1e6;
  }

  /** The rate or burst in force differs from the ones the last reservation was made at. */
  changedSince(limits: Limits): boolean {
    return this.rate(limits) !== this.#costRate || this.burst(limits) !== this.#toleranceBurst;
  }

  /**
   * The chunk in hand was reserved here (a bucket whose level has no rate is passed without
   * one): only then may it be given back.
   */
  holds = false;

  /** Gives back `bytes` of the chunk in hand (at the rate it was reserved at), if nothing was reserved after it. */
  refundLast(bytes: number): boolean {
    if (!this.holds) return false;
    this.holds = false;
    return refund(this.view, this.index, bytes, this.#costRate, this.tat);
  }



  /** Reserves `bytes` at `rate` (not 0) with `burst`; the wait in nanoseconds. */
  reserve(bytes: number, rate: number, burst: number, now: bigint): number {
    if (bytes !== this.#costBytes || rate !== this.#costRate) {
      this.#cost = costNanos(bytes, rate);
      this.#costBytes = bytes;
      this.#costRate = rate;
    }
    if (rate !== this.#toleranceRate || burst !== this.#toleranceBurst) {
      this.#tolerance = Number(costNanos(burst, rate));
      this.#toleranceRate = rate;
      this.#toleranceBurst = burst;
    }
    this.holds = true;
    return reserve(this.view, this.index, this.#cost, this.#tolerance, now, this);
  }
}

class Flow implements TokenGate {
  onOpen: (() => void) | null = null;
  readonly #first: ServerShaper;
  readonly #buckets: readonly Bucket[];
  /** Buckets that have released the pending chunk; all of them: the chunk may go. */
  #passed = 0;
  #closed = false;
  #waiting = false;
  /** Bytes reserved in every bucket and not yet written. */
  #prepaid = 0;
  /** Bytes reserved in the first #passed buckets, waiting for the next. */
  #pending = 0;
  #chunkBytes = 0;
  #chunksUntilResize = 0;
  /** The client buckets whose slots count the bytes sent. */
  readonly #counted: readonly Bucket[];
  /** The rates (added up) the chunk size was worked out for. */
  #sizedFor = -1;
  #ticket: Ticket | null = null;
  /** While waiting: the bucket that made the chunk wait, and when (clock nanoseconds) it is due. */
  #waitBucket: Bucket | null = null;
  #waitDue = 0n;
  /** When the current wait began, and the time waited before it (clock nanoseconds). */
  #waitSince = 0n;
  #waited = 0n;
  /** Allocated once: the scheduler calls it when the current wait is over. */
  readonly #onTimer = (): void => this.#waitOver();

  constructor(first: ServerShaper, buckets: readonly Bucket[]) {
    this.#first = first;
    this.#buckets = buckets;
    // Each scope's client slot counts what its client was sent (the overflow slot does not).
    this.#counted = buckets.filter((bucket) => bucket.sentCounter >= 0);
  }

  admit(available: number): number {
    if (this.#prepaid > 0) return Math.min(this.#prepaid, available);
    if (this.#waiting || this.#closed) return 0;
    // Sized again every few chunks, and at once when a rate changed (a chunk sized for a fast
    // rate would take seconds at a slow one).
    const rates = this.#rates();
    if (--this.#chunksUntilResize < 0 || rates !== this.#sizedFor) {
      this.#chunkBytes = this.#sizeChunks();
      this.#sizedFor = rates;
      this.#chunksUntilResize = RESIZE_EVERY;
    }
    this.#pending = Math.min(available, this.#chunkBytes);
    this.#passed = 0;
    for (const bucket of this.#buckets) bucket.holds = false;
    return this.#reserveOnward(this.#first.now()) ? Math.min(this.#prepaid, available) : 0;
  }

  spent(bytes: number): void {
    this.#prepaid -= bytes;
    this.#first.onWrite(bytes);
    for (const bucket of this.#counted) Atomics.add(bucket.shaper.words32, bucket.sentCounter, bytes);
  }

  limit(): number {
    let lowest = 0;
    for (const bucket of this.#buckets) {
      const rate = bucket.rate(bucket.shaper.limits());
      if (rate > 0 && (lowest === 0 || rate < lowest)) lowest = rate;
    }
    return lowest;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ticket?.cancel();
    if (this.#waiting) this.#waited += this.#first.now() - this.#waitSince;
    if (this.#waited > 0n) this.#first.onWaited(Number(this.#waited));
    // Each client slot counts its ended responses and their wait, before the slot is let go.
    const waitedMs = Math.round(Number(this.#waited) / 1e6);
    for (const bucket of this.#counted) {
      Atomics.add(bucket.shaper.words32, bucket.endedCounter, 1);
      if (waitedMs > 0) Atomics.add(bucket.shaper.words32, bucket.endedCounter + 1, waitedMs);
    }
    // Give back what was reserved but never sent (possible only if nobody reserved after us).
    this.#buckets.forEach((bucket, i) => {
      const unsent = this.#prepaid + (i < this.#passed ? this.#pending : 0);
      if (unsent > 0) bucket.refundLast(unsent);
    });
    this.#prepaid = 0;
    this.#pending = 0;
    this.onOpen = null;
    for (const bucket of this.#buckets) {
      if (bucket.kind === 'client' && bucket.line >= 0) releaseSlot(bucket.view, bucket.line);
      if (bucket.kind === 'server') Atomics.sub(bucket.view, kServerActiveFlows, 1n);
    }
  }

  /** The rates of every bucket, added up: changes when any of them does. */
  #rates(): number {
    let sum = 0;
    for (const bucket of this.#buckets) sum += bucket.rate(bucket.shaper.limits());
    return sum;
  }

  /** The chunk size: about PACE_MS of the tightest share among the scopes. */
  #sizeChunks(): number {
    let bytes = MAX_CHUNK_BYTES;
    // Client buckets come first, one per scope, then the aggregates in the same order.
    const scopes = this.#buckets.length / 2;
    for (let i = 0; i < scopes; i++) {
      const client = this.#buckets[i]!;
      const limits = client.shaper.limits();
      const clientFlows = client.line < 0 ? 1 : activeFlows(client.view, client.line);
      const serverFlows = Number(Atomics.load(client.shaper.view, kServerActiveFlows));
      bytes = Math.min(bytes, chunkBytes(client.rate(limits), clientFlows, limits.serverRate, serverFlows));
    }
    return bytes;
  }

  /**
   * Reserves the pending chunk in the buckets not yet passed, in order, until one makes it wait
   * (false: a timer wakes the flow) or all let it go (true). `now` is read lazily after a wait.
   */
  #reserveOnward(now: bigint | null): boolean {
    const buckets = this.#buckets;
    while (this.#passed < buckets.length) {
      const bucket = buckets[this.#passed]!;
      const limits = bucket.shaper.limits();
      const rate = bucket.rate(limits);
      this.#passed++;
      if (rate === 0) continue;
      const burst = bucket.burst(limits);
      now ??= this.#first.now();
      const waitNanos = bucket.reserve(this.#pending, rate, burst, now);
      if (waitNanos > SLACK_NANOS) {
        this.#waiting = true;
        this.#waitSince = now;
        this.#waitBucket = bucket;
        this.#waitDue = now + BigInt(Math.ceil(waitNanos));
        this.#sleep(waitNanos);
        return false;
      }
    }
    this.#prepaid = this.#pending;
    this.#pending = 0;
    return true;
  }

  /**
   * Sleeps `waitNanos` (at most RECHECK_NANOS at a time). A flow waiting long between chunks may
   * be a little late (an eighth of the wait, never more than its burst gives back): it then
   * shares its timer firing with others.
   */
  #sleep(waitNanos: number): void {
    const sleepMs = Math.min(waitNanos, RECHECK_NANOS) / 1e6;
    this.#ticket = this.#first.scheduler.after(sleepMs, this.#onTimer, Math.min(sleepMs / 8, this.#waitBucket!.toleranceMs));
  }

  /** A wait is over (or due for a look): the chunk goes on to the next buckets, or waits on. */
  #waitOver(): void {
    this.#ticket = null;
    if (this.#closed) return;
    const bucket = this.#waitBucket!;
    const now = this.#first.now();
    const left = Number(this.#waitDue - now);
    if (left > SLACK_NANOS) {
      // Not due yet: if the limit changed so that the chunk would go sooner at the new one, it
      // is reserved again (when nothing was reserved after it, so its turn can be given back).
      // A slower limit leaves it: it applies to the next chunk (a chunk reserved again from
      // now would lose the time waited, and a ramp changing every tick would never send).
      const limits = bucket.shaper.limits();
      if (bucket.changedSince(limits) && bucket.rate(limits) > 0 && Number(costNanos(this.#pending, bucket.rate(limits))) < left && bucket.refundLast(this.#pending)) {
        this.#passed--;
        // The first bucket holds nothing before it: the chunk may shrink to the new rate's size.
        if (this.#passed === 0) this.#pending = Math.min(this.#pending, this.#sizeChunks());
        this.#chunksUntilResize = 0;
        this.#waiting = false;
        this.#waited += now - this.#waitSince;
        if (this.#reserveOnward(now)) this.onOpen?.();
        return;
      }
      this.#sleep(left);
      return;
    }
    this.#waiting = false;
    this.#waited += now - this.#waitSince;
    if (!this.#reserveOnward(null)) return;
    this.onOpen?.();
  }
}
