/**
 * Per-client limits set at runtime (the control plane): kept in the override lines of a shaper's
 * memory by client key, and copied into the client's slot, where every flow of that client reads
 * them with its next chunk. A client that is not connected keeps its entry until it comes: the
 * slot claimed for it then starts with its limits. Every write happens under the table's insert
 * lock, so a slot cannot be claimed between the entry's write and the copy into live slots.
 */
import type { ClientKey } from './client-key.js';
import { findSlot, withInsertLock } from './client-table.js';
import { kOverrideInUse, kOverrideKeyHigh, kOverrideKeyLow, kOverrideLimits, kSlotKeyHigh, kSlotKeyLow, OVERRIDE_LINES, overrideRateInt32, slotBase } from './layout.js';
import { entryBase, findEntry, type ClientLimit } from './limit-entries.js';

export type { ClientLimit } from './limit-entries.js';
export { clientLimits } from './limit-entries.js';

/** The largest rate or burst a client limit word holds. */
export const MAX_CLIENT_LIMIT = 2 ** 31 - 1;

export class ClientLimitsFull extends Error {}

/** Writes `limit` (or none) into the live slot of `key`, if it has one. */
function applyToSlot(view: BigInt64Array, key: ClientKey, limit: ClientLimit | null): void {
  const line = findSlot(view, key);
  if (line < 0) return;
  const words = new Int32Array(view.buffer);
  const index = overrideRateInt32(line);
  // Burst first: a flow that sees the new rate sees its burst.
  Atomics.store(words, index + 1, limit?.burst ?? 0);
  Atomics.store(words, index, limit?.rate ?? 0);
}

/** Sets `key`'s own limits; they reach its running flows with their next chunk. */
export function setClientLimit(view: BigInt64Array, key: ClientKey, limit: ClientLimit): void {
  if (!(limit.rate > 0 && limit.rate <= MAX_CLIENT_LIMIT && limit.burst >= 0 && limit.burst <= MAX_CLIENT_LIMIT)) {
    throw new RangeError(`a client limit is a rate from 1 to ${MAX_CLIENT_LIMIT} B/s and a burst from 0 to ${MAX_CLIENT_LIMIT} B`);
  }
  withInsertLock(view, () => {
    let entry = findEntry(view, key);
    if (entry < 0) {
      for (let i = 0; i < OVERRIDE_LINES && entry < 0; i++) if (Atomics.load(view, entryBase(view, i) + kOverrideInUse) === 0n) entry = i;
      if (entry < 0) throw new ClientLimitsFull(`at most ${OVERRIDE_LINES} clients have limits of their own; clear one first`);
      const base = entryBase(view, entry);
      Atomics.store(view, base + kOverrideKeyHigh, key.high);
      Atomics.store(view, base + kOverrideKeyLow, key.low);
    }
    const base = entryBase(view, entry);
    const words = new Int32Array(view.buffer);
    Atomics.store(words, (base + kOverrideLimits) * 2, limit.rate);
    Atomics.store(words, (base + kOverrideLimits) * 2 + 1, limit.burst);
    Atomics.store(view, base + kOverrideInUse, 1n);
    applyToSlot(view, key, limit);
  });
}

/** Back to the server's client limit; false when `key` had no limit of its own. */
export function clearClientLimit(view: BigInt64Array, key: ClientKey): boolean {
  return withInsertLock(view, () => {
    const entry = findEntry(view, key);
    if (entry < 0) return false;
    Atomics.store(view, entryBase(view, entry) + kOverrideInUse, 0n);
    applyToSlot(view, key, null);
    return true;
  });
}

/**
 * Writes `limit` (or none) into slot `line` only while it still holds `key` (checked under the
 * insert lock, so the slot cannot be given to another client in between): for limits that follow
 * a schedule of every client, kept in the slots alone (a slot claimed anew starts without, until
 * the schedule writes it again).
 */
export function setSlotLimit(view: BigInt64Array, line: number, key: { high: bigint; low: bigint }, limit: ClientLimit | null): void {
  withInsertLock(view, () => {
    const base = slotBase(line);
    if (Atomics.load(view, base + kSlotKeyHigh) !== key.high || Atomics.load(view, base + kSlotKeyLow) !== key.low) return;
    const words = new Int32Array(view.buffer);
    const index = overrideRateInt32(line);
    Atomics.store(words, index + 1, limit?.burst ?? 0);
    Atomics.store(words, index, limit?.rate ?? 0);
  });
}
