/**
 * Bodies of small files kept in memory, keyed by the file version they were read from (device,
 * inode, size, mtime), not by the URL that asked: every name a file is reached by (slash variants,
 * aliases, vhosts sharing a root) shares one copy per worker. The byte budget is one for the whole
 * process: every worker counts its bytes in shared memory, and a worker over budget evicts its own
 * oldest bodies (never another's).
 */
import type { FileIdentity } from './block-cache.js';

/** A stored body; `buffer` becomes null once the store evicted it. */
export interface StoredBody {
  buffer: Buffer | null;
}

/** The process-wide budget: one Int32 word per worker slot (budgets stay below 2 GiB). */
export function createBodyBudget(workerSlots: number): SharedArrayBuffer {
  return new SharedArrayBuffer(workerSlots * Int32Array.BYTES_PER_ELEMENT);
}

/** Bodies one worker keeps at most, whatever their size (empty files cost no bytes). */
const MAX_BODIES = 10_000;

export class BodyStore {
  readonly #maxBytes: number;
  readonly #words: Int32Array;
  readonly #slot: number;
  /** Insertion order is storing order: the first entries are evicted first. */
  readonly #bodies = new Map<string, StoredBody>();
  #own = 0;

  /**
   * A worker's store counts its bytes in its own word: a worker that died took its bodies with it,
   * and its replacement starts the word again from zero.
   */
  constructor(budget: SharedArrayBuffer, slot: number, maxBytes: number) {
    this.#words = new Int32Array(budget);
    this.#slot = slot;
    this.#maxBytes = maxBytes;
    Atomics.store(this.#words, slot, 0);
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
    // What the other workers hold is theirs to evict: if it leaves no room, evicting ours won't help.
    if (this.processBytes - this.#own + size > this.#maxBytes) return { buffer: null };
    for (const [oldKey, old] of this.#bodies) {
      if (this.processBytes + size <= this.#maxBytes && this.#bodies.size < MAX_BODIES) break;
      this.#evict(oldKey, old);
    }
    const stored: StoredBody = { buffer };
    this.#bodies.set(key, stored);
    this.#own += size;
    Atomics.add(this.#words, this.#slot, size);
    return stored;
  }

  /** Bytes this worker holds. */
  get bytes(): number {
    return this.#own;
  }

  /** Bytes all workers of the process hold. */
  get processBytes(): number {
    let sum = 0;
    for (let i = 0; i < this.#words.length; i++) sum += Atomics.load(this.#words, i);
    return sum;
  }

  #evict(key: string, stored: StoredBody): void {
    this.#bodies.delete(key);
    const size = stored.buffer?.length ?? 0;
    stored.buffer = null;
    this.#own -= size;
    Atomics.sub(this.#words, this.#slot, size);
  }
}

function identityKey(identity: FileIdentity): string {
  return `${identity.dev}:${identity.ino}:${identity.size}:${identity.mtimeMs}`;
}
