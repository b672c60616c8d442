/**
 * Where response bodies come from: a slice of memory, or a file read in large positioned reads
 * with one read ahead. A source never holds more than two buffers, so memory per response stays
 * bounded whatever the file size and the client's speed. No uWS here: the sender pulls.
 */
import { close, read } from 'node:fs';
import { BufferPool, MAX_READ_BYTES, MIN_READ_BYTES } from './buffer-pool.js';

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
}

/**
 * A byte window of an open file. Takes ownership of the descriptor. Two slots: while the sender
 * drains one, the other is being filled. Read size starts small and doubles while the client keeps
 * up (fast local clients get 1 MiB reads, which is what keeps up with nginx's sendfile); any
 * backpressure drops it back so slow clients pin little memory.
 */
export class FileSource implements BodySource {
  readonly length: number;
  error: Error | null = null;
  onReadable: (() => void) | null = null;
  readonly #pool: BufferPool;
  #fd: number;
  #nextPosition: number;
  #unread: number;
  #readSize = MIN_READ_BYTES;
  readonly #slots: [Slot, Slot] = [newSlot(), newSlot()];
  #current = 0;
  #released = false;

  constructor(fd: number, start: number, length: number, pool: BufferPool) {
    this.#fd = fd;
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
    // Slot drained without backpressure in between: the client keeps up, read bigger.
    this.#readSize = Math.min(this.#readSize * 2, MAX_READ_BYTES);
    this.#recycle(slot);
    this.#current = index ^ 1;
    this.#fill(index);
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
    if (!this.#slots.some((slot) => slot.reading)) this.#closeFd();
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
    read(this.#fd, slot.buffer, 0, size, position, (err, bytesRead) => this.#onRead(index, size, err, bytesRead));
  }

  #onRead(index: number, expected: number, err: NodeJS.ErrnoException | null, bytesRead: number): void {
    const slot = this.#slots[index]!;
    slot.reading = false;
    if (this.#released) {
      this.#recycle(slot);
      if (!this.#slots.some((s) => s.reading)) this.#closeFd();
      return;
    }
    if (err) {
      this.error = err;
    } else if (bytesRead < expected) {
      // The file shrank under us: the promised Content-Length can no longer be honoured.
      this.error = new Error(`file truncated while sending (read ${bytesRead} of ${expected} bytes)`);
    } else {
      slot.end = bytesRead;
      // Read ahead into the other slot while this one is sent.
      const other = this.#slots[index ^ 1]!;
      if (!other.reading && (other.buffer === null || other.start === other.end)) this.#fill(index ^ 1);
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

  #closeFd(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    close(fd, () => {});
  }
}

function newSlot(): Slot {
  return { buffer: null, start: 0, end: 0, reading: false };
}
