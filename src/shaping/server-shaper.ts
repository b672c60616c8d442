/**
 * A server's shaper as a worker sees it: the shared bucket memory, this worker's pacing
 * scheduler, and flows. A flow is one response body being paced: each chunk is reserved first
 * from its client's bucket and, once the client bucket releases it, from the server bucket (so
 * server budget is never held by chunks still waiting on their client), then waits for the socket.
 */
import { activeFlows, acquireSlot, releaseSlot } from './client-table.js';
import type { ClientKey } from './client-key.js';
import { chunkBytes } from './chunk-size.js';
import { refund, reserve } from './gcra.js';
import {
  kClientBurstBytes,
  kClientRateBytesPerSec,
  kHashSeedInt32,
  kLimitsVersionInt32,
  kServerActiveFlows,
  kServerBurstBytes,
  kServerRateBytesPerSec,
  kServerTatNanos,
  kSlotTatNanos,
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
}

/** Nanosecond clock shared by all threads (process.hrtime is CLOCK_MONOTONIC, process-wide). */
export type NanoClock = () => bigint;
export const hrClock: NanoClock = () => process.hrtime.bigint();

/** A chunk due this close to now goes at once: timers cannot do better than about a millisecond. */
const SLACK_NANOS = 1_000_000;
/** Chunks between two readings of the flow counts that size them (they change slowly). */
const RESIZE_EVERY = 8;

export interface ShaperHooks {
  readonly clock?: NanoClock;
  /** A paced write of `bytes` went to a socket (statistics). */
  readonly onWrite?: (bytes: number) => void;
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
  readonly #words32: Int32Array;
  readonly scheduler: PacingScheduler;
  readonly now: NanoClock;
  readonly onWrite: (bytes: number) => void;
  /** Seed of this server's client-key hashes (the same in every worker). */
  readonly seed: number;
  readonly #limits: Limits = { clientRate: 0, clientBurst: 0, serverRate: 0, serverBurst: 0 };
  #limitsVersion = -1;

  constructor(memory: SharedArrayBuffer, scheduler: PacingScheduler, hooks: ShaperHooks = {}) {
    this.view = new BigInt64Array(memory);
    this.#words32 = new Int32Array(memory);
    this.scheduler = scheduler;
    this.now = hooks.clock ?? hrClock;
    this.onWrite = hooks.onWrite ?? (() => {});
    this.seed = Atomics.load(this.#words32, kHashSeedInt32);
  }

  /** Current limits; re-read from shared memory only when they changed. */
  limits(): Limits {
    const version = Atomics.load(this.#words32, kLimitsVersionInt32);
    if (version !== this.#limitsVersion) {
      const view = this.view;
      const limits = this.#limits;
      limits.clientRate = Number(Atomics.load(view, kClientRateBytesPerSec));
      limits.clientBurst = Number(Atomics.load(view, kClientBurstBytes));
      limits.serverRate = Number(Atomics.load(view, kServerRateBytesPerSec));
      limits.serverBurst = Number(Atomics.load(view, kServerBurstBytes));
      // Re-check: a concurrent update mid-read leaves the version stale, so we read again next time.
      this.#limitsVersion = Atomics.load(this.#words32, kLimitsVersionInt32) === version ? version : -1;
    }
    return this.#limits;
  }

  /** A flow whose client is `key` (shared per-client bucket), or null for a private bucket. */
  openFlow(key: ClientKey | null): TokenGate {
    const view = this.view;
    Atomics.add(view, kServerActiveFlows, 1n);
    if (key === null) return new Flow(this, null, -1);
    return new Flow(this, view, acquireSlot(view, key, this.now()));
  }
}

type FlowState = 'ready' | 'client-wait' | 'server-wait' | 'closed';

class Flow implements TokenGate {
  onOpen: (() => void) | null = null;
  readonly #shaper: ServerShaper;
  /** Shared table memory, or a private one-word bucket for per-connection shaping. */
  readonly #clientView: BigInt64Array;
  readonly #clientIndex: number;
  readonly #clientLine: number;
  #state: FlowState = 'ready';
  /** Bytes reserved in both buckets and not yet written. */
  #prepaid = 0;
  /** Bytes reserved in the client bucket, waiting for the server bucket. */
  #pending = 0;
  #chunkBytes = 0;
  #chunksUntilResize = 0;
  #clientTat = 0n;
  #serverTat = 0n;
  #ticket: Ticket | null = null;
  /** Allocated once: the scheduler calls it when the current wait is over. */
  readonly #onTimer = (): void => this.#waitOver();

  constructor(shaper: ServerShaper, sharedView: BigInt64Array | null, clientLine: number) {
    this.#shaper = shaper;
    this.#clientLine = clientLine;
    if (sharedView === null) {
      this.#clientView = new BigInt64Array(1);
      this.#clientIndex = 0;
    } else {
      this.#clientView = sharedView;
      this.#clientIndex = slotBase(clientLine) + kSlotTatNanos;
    }
  }

  admit(available: number): number {
    if (this.#prepaid > 0) return Math.min(this.#prepaid, available);
    if (this.#state !== 'ready') return 0;
    const shaper = this.#shaper;
    const view = shaper.view;
    const { clientRate, clientBurst, serverRate } = shaper.limits();
    if (--this.#chunksUntilResize < 0) {
      const clientFlows = this.#clientLine < 0 ? 1 : activeFlows(view, this.#clientLine);
      const serverFlows = Number(Atomics.load(view, kServerActiveFlows));
      this.#chunkBytes = chunkBytes(clientRate, clientFlows, serverRate, serverFlows);
      this.#chunksUntilResize = RESIZE_EVERY;
    }
    const bytes = Math.min(available, this.#chunkBytes);
    const now = shaper.now();
    const client = reserve(this.#clientView, this.#clientIndex, bytes, now, clientRate, clientBurst);
    this.#clientTat = client.tat;
    this.#pending = bytes;
    if (client.waitNanos > SLACK_NANOS) {
      this.#state = 'client-wait';
      this.#wake(client.waitNanos);
      return 0;
    }
    return this.#reserveServer(now) ? Math.min(this.#prepaid, available) : 0;
  }

  spent(bytes: number): void {
    this.#prepaid -= bytes;
    this.#shaper.onWrite(bytes);
  }

  close(): void {
    if (this.#state === 'closed') return;
    this.#ticket?.cancel();
    const view = this.#shaper.view;
    const { clientRate, serverRate } = this.#shaper.limits();
    // Give back what was reserved but never sent (possible only if nobody reserved after us).
    const unsent = this.#prepaid + this.#pending;
    if (unsent > 0) {
      refund(this.#clientView, this.#clientIndex, unsent, clientRate, this.#clientTat);
      if (this.#prepaid > 0) refund(view, kServerTatNanos, this.#prepaid, serverRate, this.#serverTat);
    }
    this.#state = 'closed';
    this.#prepaid = 0;
    this.#pending = 0;
    this.onOpen = null;
    if (this.#clientLine >= 0) releaseSlot(view, this.#clientLine);
    Atomics.sub(view, kServerActiveFlows, 1n);
  }

  /** Moves the pending chunk into the server bucket; true when it may go now. `now` is read lazily. */
  #reserveServer(now: bigint | null): boolean {
    const { serverRate, serverBurst } = this.#shaper.limits();
    if (serverRate === 0) return this.#release();
    const server = reserve(this.#shaper.view, kServerTatNanos, this.#pending, now ?? this.#shaper.now(), serverRate, serverBurst);
    this.#serverTat = server.tat;
    if (server.waitNanos > SLACK_NANOS) {
      this.#state = 'server-wait';
      this.#wake(server.waitNanos);
      return false;
    }
    return this.#release();
  }

  /** Both buckets let the pending chunk go. */
  #release(): true {
    this.#prepaid = this.#pending;
    this.#pending = 0;
    this.#state = 'ready';
    return true;
  }

  /** The client bucket released the pending chunk (then ask the server bucket), or the server did. */
  #waitOver(): void {
    this.#ticket = null;
    if (this.#state === 'client-wait') {
      if (!this.#reserveServer(null)) return;
    } else if (this.#state === 'server-wait') {
      this.#release();
    } else {
      return;
    }
    this.onOpen?.();
  }

  #wake(waitNanos: number): void {
    this.#ticket = this.#shaper.scheduler.after(waitNanos / 1e6, this.#onTimer);
  }
}
