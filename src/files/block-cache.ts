/**
 * Shared read blocks for paced (shaped) bodies. A thousand simulated players pulling the same
 * stream at 10 kB/s each would otherwise issue a thousand small reads (each a thread-pool round
 * trip) and pin a thousand private buffers; here they share one read and one buffer per 64 KiB
 * block. Blocks are keyed by file identity (device, inode, size, mtime) and offset, kept in
 * least-recently-used order within a byte budget; a block still referenced by a flow stays alive
 * until that flow moves on, whatever the cache evicts.
 */
import { read } from 'node:fs';

export const BLOCK_BYTES = 64 * 1024;
export const DEFAULT_BLOCK_CACHE_BYTES = 32 * 1024 * 1024;

/** Identity of one version of a file. */
export interface FileIdentity {
  readonly dev: number;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
}

export class BlockCache {
  readonly #maxBytes: number;
  /** Map iteration order is insertion order: re-inserting on use keeps it least-recently-used first. */
  readonly #blocks = new Map<string, Buffer>();
  readonly #pending = new Map<string, Array<(error: Error | null, block: Buffer | null) => void>>();
  #bytes = 0;

  constructor(maxBytes = DEFAULT_BLOCK_CACHE_BYTES) {
    this.#maxBytes = maxBytes;
  }

  /**
   * The block of `file` holding byte `offset` (its first byte is at `blockStart(offset)`), read
   * through `fd` when no other flow has it. `done` may run synchronously. Returns true when this
   * call started a read on `fd`: the caller must keep `fd` open until `done` has run.
   */
  get(fd: number, file: FileIdentity, offset: number, done: (error: Error | null, block: Buffer | null) => void): boolean {
    const index = Math.floor(offset / BLOCK_BYTES);
    const key = `${file.dev}:${file.ino}:${file.size}:${file.mtimeMs}:${index}`;
    const cached = this.#blocks.get(key);
    if (cached !== undefined) {
      this.#blocks.delete(key);
      this.#blocks.set(key, cached);
      done(null, cached);
      return false;
    }
    const waiting = this.#pending.get(key);
    if (waiting !== undefined) {
      waiting.push(done);
      return false;
    }
    this.#pending.set(key, [done]);
    const start = index * BLOCK_BYTES;
    const length = Math.min(BLOCK_BYTES, file.size - start);
    const block = Buffer.allocUnsafeSlow(length);
    read(fd, block, 0, length, start, (err, bytesRead) => {
      const callbacks = this.#pending.get(key) ?? [];
      this.#pending.delete(key);
      const error = err ?? (bytesRead < length ? new Error(`file truncated while sending (read ${bytesRead} of ${length} bytes)`) : null);
      if (error === null) this.#remember(key, block);
      for (const callback of callbacks) callback(error, error === null ? block : null);
    });
    return true;
  }

  #remember(key: string, block: Buffer): void {
    this.#blocks.set(key, block);
    this.#bytes += block.length;
    for (const [oldKey, old] of this.#blocks) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#blocks.delete(oldKey);
      this.#bytes -= old.length;
    }
  }
}

/** Offset of the first byte of the block holding `offset`. */
export function blockStart(offset: number): number {
  return Math.floor(offset / BLOCK_BYTES) * BLOCK_BYTES;
}
