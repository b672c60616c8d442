/**
 * Where response bodies come from: a slice of memory, or a file read in large positioned reads
 * with one read ahead. A source never holds more than two buffers, so memory per response stays
 * bounded whatever the file size and the client's speed. No uWS here: the sender pulls.
 */
import { read } from 'node:fs';
import { blockStart, type BlockCache, type FileIdentity } from './block-cache.js';
import { BufferPool, MAX_READ_BYTES, MIN_READ_BYTES } from './buffer-pool.js';
import type { FileHandle } from './open-files.js';

/** A slot sent this fast means the client keeps up: read bigger next time. */
const FAST_DRAIN_MS = 50;
/** A slot that took this long to send was too big for this client: read smaller. */
const SLOW_DRAIN_MS = 1000;
/** First read size for a client of unknown speed. */
const FIRST_READ_BYTES = 64 * 1024;
/**
 * Read ahead only for clients that drain a slot within this time: for slower ones a read on
 * demand costs them nothing noticeable and halves the memory they pin.
 */
const READ_AHEAD_WITHIN_MS = 250;

export interface BodySource {
  /** Bytes to send in all. */
  readonly length: number;
  /** Unsent bytes available now, or null while a read is pending (then `onReadable` fires). */
  peek(): Uint8Array | null;
  /** Marks `n` bytes of the current view as sent. */
  consume(n: number): void;
  /** The read error that ended this source, if any. */
  readonly error: Error | null;
  /** Called (once per pending read) when `peek` has data again or `error` is set. */
  onReadable: (() => void) | null;
  /** The sender hit socket backpressure: read smaller chunks from now on. */
  noteBackpressure(): void;
  /** Frees buffers and the file descriptor. Idempotent. */
  release(): void;
}

/** A body already in memory (cached small files, generated pages). */
export class MemorySource implements BodySource {
  readonly length: number;
  readonly error = null;
  onReadable: (() => void) | null = null;
  #view: Uint8Array;

  constructor(bytes: Uint8Array) {
    this.#view = bytes;
    this.length = bytes.length;
  }

  peek(): Uint8Array | null {
    return this.#view;
  }

  consume(n: number): void {
    this.#view = this.#view.subarray(n);
  }

  noteBackpressure(): void {}

  release(): void {
    this.#view = EMPTY;
  }
}

const EMPTY = new Uint8Array(0);

interface Slot {
  buffer: Buffer | null;
  /** Next unsent byte in `buffer`. */
  start: number;
  /** End of valid data in `buffer`. */
  end: number;
  reading: boolean;
  /** When the read into it completed (performance.now()). */
  readyAt: number;
}

/**
 * A byte window of an open file. Takes over the file handle (released with the source). Two slots: while the sender
 * drains one, the other is being filled (read-ahead, for clients fast enough to need it). The read
 * size follows the client: it doubles while slots drain fast (fast local clients get 1 MiB reads,
 * which is what keeps up with nginx's sendfile), halves when a slot took long (slow or shaped
 * clients), and drops to the minimum on socket backpressure, so slow clients pin little memory.
 */
export class FileSource implements BodySource {
  readonly length: number;
  error: Error | null = null;
  onReadable: (() => void) | null = null;
  readonly #pool: BufferPool;
  readonly #file: FileHandle;
  #nextPosition: number;
  #unread: number;
  #readSize: number;
  #readAhead = true;
  readonly #slots: [Slot, Slot] = [newSlot(), newSlot()];
  #current = 0;
  #released = false;

  constructor(file: FileHandle, start: number, length: number, pool: BufferPool) {
    this.#readSize = FIRST_READ_BYTES;
    this.#file = file;
    this.#nextPosition = start;
    this.#unread = length;
    this.length = length;
    this.#pool = pool;
    this.#fill(0);
  }

  peek(): Uint8Array | null {
    const slot = this.#slots[this.#current]!;
    if (slot.reading || slot.buffer === null || slot.start === slot.end) return null;
    return slot.buffer.subarray(slot.start, slot.end);
  }

  consume(n: number): void {
    const index = this.#current;
    const slot = this.#slots[index]!;
    slot.start += n;
    if (slot.start < slot.end) return;
    const drainMs = performance.now() - slot.readyAt;
    if (drainMs < FAST_DRAIN_MS) this.#readSize = Math.min(this.#readSize * 2, MAX_READ_BYTES);
    else if (drainMs > SLOW_DRAIN_MS) this.#readSize = Math.max(this.#readSize / 2, MIN_READ_BYTES);
    this.#readAhead = drainMs < READ_AHEAD_WITHIN_MS;
    this.#recycle(slot);
    this.#current = index ^ 1;
    const next = this.#slots[this.#current]!;
    if (!next.reading && next.buffer === null) this.#fill(this.#current);
    else if (this.#readAhead) this.#fill(index);
  }

  noteBackpressure(): void {
    this.#readSize = MIN_READ_BYTES;
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.onReadable = null;
    for (const slot of this.#slots) {
      if (!slot.reading) this.#recycle(slot);
    }
    // A read still in flight owns the descriptor and its buffer; its callback finishes the job.
    if (!this.#slots.some((slot) => slot.reading)) this.#file.release();
  }

  #fill(index: number): void {
    if (this.#unread === 0 || this.error !== null || this.#released) return;
    const slot = this.#slots[index]!;
    const size = Math.min(this.#readSize, this.#unread);
    slot.buffer = this.#pool.acquire(size);
    slot.start = 0;
    slot.end = 0;
    slot.reading = true;
    const position = this.#nextPosition;
    this.#nextPosition += size;
    this.#unread -= size;
    read(this.#file.fd, slot.buffer, 0, size, position, (err, bytesRead) => this.#onRead(index, size, err, bytesRead));
  }

  #onRead(index: number, expected: number, err: NodeJS.ErrnoException | null, bytesRead: number): void {
    const slot = this.#slots[index]!;
    slot.reading = false;
    if (this.#released) {
      this.#recycle(slot);
      if (!this.#slots.some((s) => s.reading)) this.#file.release();
      return;
    }
    if (err) {
      this.error = err;
    } else if (bytesRead < expected) {
      // The file shrank under us: the promised Content-Length can no longer be honoured.
      this.error = new Error(`file truncated while sending (read ${bytesRead} of ${expected} bytes)`);
    } else {
      slot.end = bytesRead;
      slot.readyAt = performance.now();
      // Read ahead into the other slot while this one is sent.
      const other = this.#slots[index ^ 1]!;
      if (this.#readAhead && !other.reading && other.buffer === null) this.#fill(index ^ 1);
    }
    const notify = this.onReadable;
    if (notify && (this.error !== null || index === this.#current)) notify();
  }

  #recycle(slot: Slot): void {
    if (slot.buffer !== null) this.#pool.release(slot.buffer);
    slot.buffer = null;
    slot.start = 0;
    slot.end = 0;
  }

}

function newSlot(): Slot {
  return { buffer: null, start: 0, end: 0, reading: false, readyAt: 0 };
}

/**
 * A byte window of an open file read through the shared block cache, for paced bodies: slow
 * flows of the same file share reads and buffers. Takes over the file handle (released once the
 * source is released and no read it started is still in flight).
 */
export class SharedBlockSource implements BodySource {
  readonly length: number;
  error: Error | null = null;
  onReadable: (() => void) | null = null;
  readonly #cache: BlockCache;
  readonly #identity: FileIdentity;
  readonly #file: FileHandle;
  #position: number;
  readonly #end: number;
  #block: Buffer | null = null;
  #blockStart = 0;
  #fetching = false;
  #readsInFlight = 0;
  #released = false;

  constructor(file: FileHandle, identity: FileIdentity, start: number, length: number, cache: BlockCache) {
    this.#file = file;
    this.#identity = identity;
    this.#position = start;
    this.#end = start + length;
    this.length = length;
    this.#cache = cache;
  }

  peek(): Uint8Array | null {
    if (this.#block === null && !this.#fetching && this.error === null && this.#position < this.#end) this.#fetch();
    const block = this.#block;
    if (block === null) return null;
    return block.subarray(this.#position - this.#blockStart, Math.min(block.length, this.#end - this.#blockStart));
  }

  consume(n: number): void {
    this.#position += n;
    if (this.#block !== null && this.#position >= this.#blockStart + this.#block.length) this.#block = null;
  }

  noteBackpressure(): void {}

  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#block = null;
    this.onReadable = null;
    if (this.#readsInFlight === 0) this.#file.release();
  }

  #fetch(): void {
    this.#fetching = true;
    // A cached block arrives synchronously (picked up by the peek() that asked); a read
    // completes later and wakes the sender.
    let synchronous = true;
    let startedRead = false;
    startedRead = this.#cache.get(this.#file.fd, this.#identity, this.#position, (error, block) => {
      if (startedRead) this.#readsInFlight--;
      this.#fetching = false;
      if (this.#released) {
        if (this.#readsInFlight === 0) this.#file.release();
        return;
      }
      if (error) this.error = error;
      else {
        this.#block = block;
        this.#blockStart = blockStart(this.#position);
      }
      if (!synchronous) this.onReadable?.();
    });
    if (startedRead) this.#readsInFlight++;
    synchronous = false;
  }
}
