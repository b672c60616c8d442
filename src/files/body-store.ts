/**
 * Bodies of small files kept in memory, keyed by the file version they were read from (device,
 * inode, size, mtime), not by the URL that asked: every name a file is reached by (slash variants,
 * aliases, vhosts sharing a root) shares one copy. The byte budget is one for the whole process:
 * every worker's store adds to and subtracts from one shared counter, and a worker over budget
 * evicts its own least recently stored bodies first.
 */
import type { FileIdentity } from './block-cache.js';

/** A stored body; `buffer` becomes null once the store evicted it. */
export interface StoredBody {
  buffer: Buffer | null;
}

/** The process-wide counter of stored bytes (an Int32 word: budgets stay below 2 GiB). */
export function createBodyBudget(): SharedArrayBuffer {
  return new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
}

/** Bodies one worker keeps at most, whatever their size (empty files cost no bytes). */
const MAX_BODIES = 10_000;

export class BodyStore {
  readonly #maxBytes: number;
  readonly #used: Int32Array;
  /** Insertion order is storing order: the first entries are evicted first. */
  readonly #bodies = new Map<string, StoredBody>();

  constructor(budget: SharedArrayBuffer, maxBytes: number) {
    this.#used = new Int32Array(budget);
    this.#maxBytes = maxBytes;
  }

  /** The stored body of this file version, if it is still held. */
  get(identity: FileIdentity): StoredBody | undefined {
    return this.#bodies.get(identityKey(identity));
  }

  /**
   * Stores `buffer` for this file version; returns its handle, or one whose buffer is null when
   * the budget cannot make room (the body is then served from disk).
   */
  put(identity: FileIdentity, buffer: Buffer): StoredBody {
    const key = identityKey(identity);
    const existing = this.#bodies.get(key);
    if (existing?.buffer) return existing;
    const size = buffer.length;
    // Reserve first, then evict our own oldest until the process total fits again.
    let total = Atomics.add(this.#used, 0, size) + size;
    for (const [oldKey, old] of this.#bodies) {
      if (total <= this.#maxBytes && this.#bodies.size < MAX_BODIES) break;
      total = this.#evict(oldKey, old);
    }
    if (total > this.#maxBytes) {
      Atomics.sub(this.#used, 0, size);
      return { buffer: null };
    }
    const stored: StoredBody = { buffer };
    this.#bodies.set(key, stored);
    return stored;
  }

  /** Bytes this worker holds (for tests). */
  get bytes(): number {
    let sum = 0;
    for (const { buffer } of this.#bodies.values()) sum += buffer?.length ?? 0;
    return sum;
  }

  /** Bytes all workers of the process hold. */
  get processBytes(): number {
    return Atomics.load(this.#used, 0);
  }

  #evict(key: string, stored: StoredBody): number {
    this.#bodies.delete(key);
    const size = stored.buffer?.length ?? 0;
    stored.buffer = null;
    return Atomics.sub(this.#used, 0, size) - size;
  }
}

function identityKey(identity: FileIdentity): string {
  return `${identity.dev}:${identity.ino}:${identity.size}:${identity.mtimeMs}`;
}
