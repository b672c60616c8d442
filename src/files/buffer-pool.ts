/**
 * Read buffers for file bodies, recycled per worker so streaming large files does not churn the
 * garbage collector (or make the kernel zero fresh pages). Sizes are powers of two from 16 KiB to
 * 1 MiB; each size keeps a bounded free list, so idle memory is bounded too.
 */

export const MIN_READ_BYTES = 16 * 1024;
export const MAX_READ_BYTES = 1024 * 1024;

/** Idle bytes kept per size class. */
const IDLE_BYTES_PER_CLASS = 8 * 1024 * 1024;

export class BufferPool {
  readonly #free = new Map<number, Buffer[]>();

  /** A buffer of at least `size` bytes (at most MAX_READ_BYTES). */
  acquire(size: number): Buffer {
    const capacity = sizeClass(size);
    const list = this.#free.get(capacity);
    return list?.pop() ?? Buffer.allocUnsafeSlow(capacity);
  }

  /** Returns a buffer obtained from `acquire`. */
  release(buffer: Buffer): void {
    const capacity = buffer.length;
    let list = this.#free.get(capacity);
    if (!list) {
      list = [];
      this.#free.set(capacity, list);
    }
    if ((list.length + 1) * capacity <= IDLE_BYTES_PER_CLASS) list.push(buffer);
  }
}

function sizeClass(size: number): number {
  let capacity = MIN_READ_BYTES;
  while (capacity < size && capacity < MAX_READ_BYTES) capacity *= 2;
  return capacity;
}
