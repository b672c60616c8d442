/**
 * The shared-memory layout of one server's shaper: a BigInt64Array over a SharedArrayBuffer that
 * the coordinator allocates and every worker maps. Everything is an integer: bytes, bytes per
 * second, nanoseconds of the process-wide monotonic clock. Each group of words that threads write
 * independently sits on its own 64-byte cache line (8 words): neighbouring words hammered by
 * several threads are several times slower from false sharing.
 */

export const WORDS_PER_LINE = 8;
export const BYTES_PER_LINE = 64;

// Line 0: configuration (written by the coordinator or an admin call, read per chunk).
/** Server-wide rate; 0 = no server limit. */
export const kServerRateBytesPerSec = 0;
export const kServerBurstBytes = 1;
/** Per-client rate; 0 = no client limit. */
export const kClientRateBytesPerSec = 2;
export const kClientBurstBytes = 3;
/** Number of client slots (a power of two). */
export const kTableCapacity = 4;
/** Flows that found no slot and shared the overflow bucket, ever (the coordinator reports its growth). */
export const kOverflowFlows = 5;
/** Serialises inserting and reclaiming client slots (lookups never take it). */
export const kInsertLock = 6;
/**
 * Bumped after every change of the four limits, so readers can cache them. Read through an
 * Int32Array view (index kLimitsVersionInt32): checked once per chunk, and a 32-bit atomic load
 * allocates nothing, unlike a BigInt one.
 */
export const kLimitsVersionInt32 = 7 * 2;
/** Seed of the client-key hashes, drawn once per process (Int32 index: the other half of word 7). */
export const kHashSeedInt32 = 7 * 2 + 1;

// Line 1: the server-wide bucket.
/** Theoretical arrival time of the server bucket, in clock nanoseconds. */
export const kServerTatNanos = 8;
/** Shaped responses in flight on this server, all workers together. */
export const kServerActiveFlows = 9;

// Line 2: the overflow client bucket, shared by clients that found no slot.
export const kOverflowSlot = 2;

/** First line of the client table. */
export const kFirstClientLine = 3;

// Words within a client slot line.
/**
 * Slot state: 0 empty, -1 tombstone (reusable, but keeps probe chains intact), otherwise
 * `fingerprint << 16 | activeFlows`. Fingerprint and count share one word so that acquiring a
 * slot (count + 1) and reclaiming it (count must be 0) are a single compare-exchange.
 */
export const kSlotState = 0;
export const kSlotKeyHigh = 1;
export const kSlotKeyLow = 2;
/** Theoretical arrival time of this client's bucket, in clock nanoseconds. */
export const kSlotTatNanos = 3;
/**
 * This client's own limits (set at runtime, copied from the override table when the slot is
 * claimed), as two Int32 halves of the word: rate (bytes/s; 0: the server's client limit) and
 * burst. Read per chunk through an Int32Array: a 32-bit atomic load allocates nothing.
 */
export const kSlotOverride = 4;

/**
 * Body bytes this client was sent since its slot was claimed, modulo 2^32 (the low Int32 half of
 * the word; a 32-bit atomic add allocates nothing): the control plane samples it every second.
 */
export const kSlotSentBytes = 5;

/**
 * Responses of this client that ended, and the milliseconds they spent waiting for tokens, since
 * its slot was claimed (Int32 halves of the word, modulo 2^32): added as each response ends.
 */
export const kSlotEnded = 6;

/** The Int32 index of a slot's ended-responses counter (its wait in ms is the next one). */
export function endedInt32(line: number): number {
  return (slotBase(line) + kSlotEnded) * 2;
}

/** The Int32 index of a slot's sent-bytes counter. */
export function sentBytesInt32(line: number): number {
  return (slotBase(line) + kSlotSentBytes) * 2;
}

/** The Int32 index of a slot's override rate (the burst is the next one). */
export function overrideRateInt32(line: number): number {
  return (slotBase(line) + kSlotOverride) * 2;
}

/**
 * Runtime per-client limits, kept apart from the client table (whose slots come and go with the
 * clients' connections): OVERRIDE_LINES lines after the table, each the client's key and its
 * limits. Written by the coordinator under the insert lock; read when a slot is claimed.
 */
export const OVERRIDE_LINES = 256;
export const kOverrideInUse = 0;
export const kOverrideKeyHigh = 1;
export const kOverrideKeyLow = 2;
/** Int32 halves of this word: rate, burst (as kSlotOverride). */
export const kOverrideLimits = 3;

export const SLOT_EMPTY = 0n;
export const SLOT_TOMBSTONE = -1n;
export const ACTIVE_BITS = 16n;
export const ACTIVE_MASK = (1n << ACTIVE_BITS) - 1n;

/** Word index of the first word of slot `slot` (the overflow slot included). */
export function slotBase(slot: number): number {
  return slot * WORDS_PER_LINE;
}

/** Bytes of shared memory for a table of `capacity` client slots and the override lines. */
export function shaperBytes(capacity: number): number {
  return (kFirstClientLine + capacity + OVERRIDE_LINES) * BYTES_PER_LINE;
}

/** The line of override entry `index` (0-based) behind a table of `capacity` slots. */
export function overrideLine(capacity: number, index: number): number {
  return kFirstClientLine + capacity + index;
}

/** The line number of client slot `index` (0-based) in the table. */
export function clientSlot(index: number): number {
  return kFirstClientLine + index;
}
