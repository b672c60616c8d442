/**
 * The override lines of a shaper's memory: per-client limits by client key (layout.ts). Read and
 * written under the client table's insert lock (client-limits.ts writes, client-table.ts reads
 * when it claims a slot).
 */
import type { ClientKey } from './client-key.js';
import { kOverrideInUse, kOverrideKeyHigh, kOverrideKeyLow, kOverrideLimits, kTableCapacity, OVERRIDE_LINES, overrideLine, slotBase } from './layout.js';

/** A client's own limits: bytes per second (above 0, below 2^31) and burst bytes. */
export interface ClientLimit {
  readonly rate: number;
  readonly burst: number;
}

/** The first word of override entry `index`. */
export function entryBase(view: BigInt64Array, index: number): number {
  return slotBase(overrideLine(Number(view[kTableCapacity]), index));
}

/** The override entry of `key`, or -1. Under the insert lock (or for a consistent read, racy otherwise). */
export function findEntry(view: BigInt64Array, key: ClientKey): number {
  for (let i = 0; i < OVERRIDE_LINES; i++) {
    const base = entryBase(view, i);
    if (Atomics.load(view, base + kOverrideInUse) === 1n && Atomics.load(view, base + kOverrideKeyHigh) === key.high && Atomics.load(view, base + kOverrideKeyLow) === key.low) return i;
  }
  return -1;
}

/** `key`'s own limits, or null. Called under the insert lock when a slot is claimed for it. */
export function clientLimitOf(view: BigInt64Array, key: ClientKey): ClientLimit | null {
  const entry = findEntry(view, key);
  if (entry < 0) return null;
  const words = new Int32Array(view.buffer);
  const index = (entryBase(view, entry) + kOverrideLimits) * 2;
  return { rate: Atomics.load(words, index), burst: Atomics.load(words, index + 1) };
}

/** Every client with limits of its own: its key words and limits (for listings). */
export function clientLimits(view: BigInt64Array): Array<{ high: bigint; low: bigint; limit: ClientLimit }> {
  const out: Array<{ high: bigint; low: bigint; limit: ClientLimit }> = [];
  const words = new Int32Array(view.buffer);
  for (let i = 0; i < OVERRIDE_LINES; i++) {
    const base = entryBase(view, i);
    if (Atomics.load(view, base + kOverrideInUse) !== 1n) continue;
    const index = (base + kOverrideLimits) * 2;
    out.push({ high: Atomics.load(view, base + kOverrideKeyHigh), low: Atomics.load(view, base + kOverrideKeyLow), limit: { rate: Atomics.load(words, index), burst: Atomics.load(words, index + 1) } });
  }
  return out;
}
