/**
 * The per-client bucket table in shared memory: fixed capacity, open addressing with linear
 * probing over a bounded window. Looking up a known client and counting its flows is lock-free
 * (one compare-exchange on the slot's state word). Inserting a new client, or reclaiming the slot
 * of an idle one, happens under a tiny insert lock so two threads can never create two slots for
 * one client. When no slot is free in the window, the client shares the overflow bucket: the
 * table never grows and no client is ever unshaped.
 */
import { isFull } from './gcra.js';
import { clientLimitOf } from './limit-entries.js';
import type { ClientKey } from './client-key.js';
import {
  ACTIVE_BITS,
  ACTIVE_MASK,
  clientSlot,
  kInsertLock,
  kOverflowSlot,
  kOverflowFlows,
  kSlotKeyHigh,
  kSlotKeyLow,
  kSlotState,
  kSlotTatNanos,
  kTableCapacity,
  overrideRateInt32,
  sentBytesInt32,
  endedInt32,
  SLOT_EMPTY,
  SLOT_TOMBSTONE,
  slotBase,
} from './layout.js';

/** Slots examined from the home slot before a client goes to the overflow bucket. */
export const PROBE_WINDOW = 64;


/**
 * Finds or creates the slot of `key`, counts one more flow on it and returns its line (the
 * overflow slot when no slot is free, or when the client's flow count is full). `now` (clock nanoseconds)
 * decides which idle slots may be reclaimed: a slot with no flow whose bucket has refilled holds
 * nothing a fresh bucket would not.
 */
export function acquireSlot(view: BigInt64Array, key: ClientKey, now: bigint): number {
  const found = findAndAcquire(view, key);
  if (found >= 0) return found;
  if (found === SLOT_FULL) return overflow(view);
  lock(view);
  try {
    // Another thread may have inserted this client since we looked.
    const again = findAndAcquire(view, key);
    if (again >= 0) return again;
    const line = again === SLOT_FULL ? -1 : claimFreeSlot(view, key, now);
    if (line >= 0) return line;
  } finally {
    unlock(view);
  }
  return overflow(view);
}

/** The client shares the overflow bucket (whose state word is a plain flow count). */
function overflow(view: BigInt64Array): number {
  Atomics.add(view, slotBase(kOverflowSlot) + kSlotState, 1n);
  Atomics.add(view, kOverflowFlows, 1n);
  return kOverflowSlot;
}

/** Flows that have shared the overflow bucket since the shaper was created. */
export function overflowFlows(view: BigInt64Array): number {
  return Number(Atomics.load(view, kOverflowFlows));
}

/** Counts one flow less on a slot returned by acquireSlot. */
export function releaseSlot(view: BigInt64Array, line: number): void {
  const index = slotBase(line) + kSlotState;
  if (line === kOverflowSlot) {
    Atomics.sub(view, index, 1n);
    return;
  }
  for (;;) {
    const state = Atomics.load(view, index);
    if (Atomics.compareExchange(view, index, state, state - 1n) === state) return;
  }
}

/** Flows currently counted on a slot. */
export function activeFlows(view: BigInt64Array, line: number): number {
  const state = Atomics.load(view, slotBase(line) + kSlotState);
  return line === kOverflowSlot ? Number(state) : Number(state & ACTIVE_MASK);
}

function capacity(view: BigInt64Array): number {
  return Number(view[kTableCapacity]);
}

/** findAndAcquire found the client, but its flow count is at the maximum the state word holds. */
const SLOT_FULL = -2;

/**
 * Lock-free: the slot line of `key` with its flow count incremented, -1 when absent, SLOT_FULL
 * when counting one more flow would carry into the fingerprint.
 */
function findAndAcquire(view: BigInt64Array, key: ClientKey): number {
  const mask = capacity(view) - 1;
  for (let probe = 0; probe < PROBE_WINDOW && probe <= mask; probe++) {
    const line = clientSlot((key.home + probe) & mask);
    const base = slotBase(line);
    for (;;) {
      const state = Atomics.load(view, base + kSlotState);
      if (state === SLOT_EMPTY) return -1; // inserts fill the first free slot: nothing further on
      if (state === SLOT_TOMBSTONE || state >> ACTIVE_BITS !== key.fingerprint) break;
      if (Atomics.load(view, base + kSlotKeyHigh) !== key.high || Atomics.load(view, base + kSlotKeyLow) !== key.low) break;
      if ((state & ACTIVE_MASK) === ACTIVE_MASK) return SLOT_FULL;
      // Count + 1 only if the state is unchanged: a reclaim (count must be 0) races on this word.
      if (Atomics.compareExchange(view, base + kSlotState, state, state + 1n) === state) return line;
    }
  }
  return -1;
}

/** Under the insert lock: the first empty, tombstoned or reclaimable slot, initialised for `key`. */
function claimFreeSlot(view: BigInt64Array, key: ClientKey, now: bigint): number {
  const mask = capacity(view) - 1;
  for (let probe = 0; probe < PROBE_WINDOW && probe <= mask; probe++) {
    const line = clientSlot((key.home + probe) & mask);
    const base = slotBase(line);
    const state = Atomics.load(view, base + kSlotState);
    const free =
      state === SLOT_EMPTY ||
      state === SLOT_TOMBSTONE ||
      // Idle and refilled: tombstone it first, so a concurrent lookup cannot acquire it midway.
      ((state & ACTIVE_MASK) === 0n &&
        isFull(view, base + kSlotTatNanos, now) &&
        Atomics.compareExchange(view, base + kSlotState, state, SLOT_TOMBSTONE) === state);
    if (!free) continue;
    Atomics.store(view, base + kSlotKeyHigh, key.high);
    Atomics.store(view, base + kSlotKeyLow, key.low);
    Atomics.store(view, base + kSlotTatNanos, 0n);
    // The client's own limits, if the control plane set any (we hold the lock they are set under).
    const limit = clientLimitOf(view, key);
    const words = new Int32Array(view.buffer);
    Atomics.store(words, sentBytesInt32(line), 0);
    Atomics.store(words, endedInt32(line), 0);
    Atomics.store(words, endedInt32(line) + 1, 0);
    Atomics.store(words, overrideRateInt32(line) + 1, limit?.burst ?? 0);
    Atomics.store(words, overrideRateInt32(line), limit?.rate ?? 0);
    // Publish last: lookups compare the fingerprint before reading the key words.
    Atomics.store(view, base + kSlotState, (key.fingerprint << ACTIVE_BITS) | 1n);
    return line;
  }
  return -1;
}

/**
 * The live slot line of `key` (its flows counted or not), or -1. Under the insert lock no slot is
 * claimed or reclaimed meanwhile.
 */
export function findSlot(view: BigInt64Array, key: ClientKey): number {
  const mask = capacity(view) - 1;
  for (let probe = 0; probe < PROBE_WINDOW && probe <= mask; probe++) {
    const line = clientSlot((key.home + probe) & mask);
    const base = slotBase(line);
    const state = Atomics.load(view, base + kSlotState);
    if (state === SLOT_EMPTY) return -1;
    if (state === SLOT_TOMBSTONE || state >> ACTIVE_BITS !== key.fingerprint) continue;
    if (Atomics.load(view, base + kSlotKeyHigh) === key.high && Atomics.load(view, base + kSlotKeyLow) === key.low) return line;
  }
  return -1;
}

/** Runs `work` holding the insert lock (the control plane's writes of client limits take it too). */
export function withInsertLock<T>(view: BigInt64Array, work: () => T): T {
  lock(view);
  try {
    return work();
  } finally {
    unlock(view);
  }
}

/**
 * The insert lock is held for a few hundred nanoseconds (a bounded scan, no I/O, nothing that can
 * throw), so a contending thread spins briefly rather than sleeping. (The control plane's writes
 * scan the 256 override lines: a few microseconds, rarely.)
 */
function lock(view: BigInt64Array): void {
  while (Atomics.compareExchange(view, kInsertLock, 0n, 1n) !== 0n);
}

function unlock(view: BigInt64Array): void {
  Atomics.store(view, kInsertLock, 0n);
}

/** A client the table holds now: its slot line, key words, fingerprint and flows counted. */
export interface LiveClient {
  readonly line: number;
  readonly high: bigint;
  readonly low: bigint;
  readonly fingerprint: bigint;
  readonly flows: number;
  /** Body bytes sent since the slot was claimed, modulo 2^32. */
  readonly sent: number;
  /** Its responses that ended since then, and the milliseconds they waited for tokens. */
  readonly ended: number;
  readonly waitedMs: number;
}

/** Every client slot in use (a consistent-enough snapshot for listings: slots change as it reads). */
export function liveClients(view: BigInt64Array): LiveClient[] {
  const out: LiveClient[] = [];
  const words = new Int32Array(view.buffer);
  for (let i = 0; i < capacity(view); i++) {
    const line = clientSlot(i);
    const base = slotBase(line);
    const state = Atomics.load(view, base + kSlotState);
    if (state === SLOT_EMPTY || state === SLOT_TOMBSTONE) continue;
    out.push({
      line,
      high: Atomics.load(view, base + kSlotKeyHigh),
      low: Atomics.load(view, base + kSlotKeyLow),
      fingerprint: state >> ACTIVE_BITS,
      flows: Number(state & ACTIVE_MASK),
      sent: Atomics.load(words, sentBytesInt32(line)) >>> 0,
      ended: Atomics.load(words, endedInt32(line)) >>> 0,
      waitedMs: Atomics.load(words, endedInt32(line) + 1) >>> 0,
    });
  }
  return out;
}
