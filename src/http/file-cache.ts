/**
 * Per-worker cache of resolved files, keyed by request path. Small files (playlists, manifests,
 * short segments) keep their bytes in memory; larger ones keep only where they are. An entry is
 * trusted for `freshMs` after it was last checked against the disk (size, mtime, inode), so a live
 * playlist rewritten every second is never served stale for longer than about that. Bounded in
 * entries and bytes; the oldest entries go first.
 */
import { fstat, open, read, close, type Stats } from 'node:fs';
import { promisify } from 'node:util';
import type { FileFacts, FileResponsePlan, RawHeader } from './file-response-plan.js';
import type { FileHandle, OpenFiles } from './open-files.js';

const openAsync = promisify(open);
const fstatAsync = promisify(fstat);
const readAsync = promisify(read);
const closeAsync = promisify(close);

export interface CacheLimits {
  /** Files up to this size keep their bytes in memory. */
  readonly maxFileBytes: number;
  /** Total bytes of cached file bodies. */
  readonly maxTotalBytes: number;
  readonly maxEntries: number;
  /** How long an entry is trusted before it is checked against the disk again. */
  readonly freshMs: number;
}

export const DEFAULT_CACHE_LIMITS: CacheLimits = Object.freeze({
  maxFileBytes: 1024 * 1024,
  maxTotalBytes: 64 * 1024 * 1024,
  maxEntries: 10_000,
  freshMs: 1000,
});

export interface CachedFile {
  readonly path: string;
  readonly name: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
  readonly dev: number;
  readonly facts: FileFacts;
  /** The whole file when it is small enough, else null (stream it from disk). */
  readonly body: Buffer | null;
  checkedAt: number;
  /**
   * The response to requests without range or validators, with its headers in the form the
   * responder sends (pre-encoded bytes); computed on first use.
   */
  plain?: { readonly plan: FileResponsePlan; readonly headers: readonly RawHeader[] };
}

/** A file ready to serve: from memory (`handle` null) or from a descriptor the caller must release. */
export interface OpenedFile {
  readonly file: CachedFile;
  readonly handle: FileHandle | null;
}

export type DescribeFile = (name: string, size: number, mtimeMs: number) => FileFacts;

export class FileCache {
  readonly #limits: CacheLimits;
  readonly #describe: DescribeFile;
  readonly #files: OpenFiles;
  readonly #now: () => number;
  readonly #entries = new Map<string, CachedFile>();
  readonly #loading = new Map<string, Promise<OpenedFile>>();
  #bodyBytes = 0;

  constructor(describe: DescribeFile, files: OpenFiles, limits: CacheLimits = DEFAULT_CACHE_LIMITS, now: () => number = Date.now) {
    this.#describe = describe;
    this.#files = files;
    this.#limits = limits;
    this.#now = now;
  }

  /** The entry for `key` if it was checked against the disk recently enough. */
  fresh(key: string): CachedFile | undefined {
    const entry = this.#entries.get(key);
    if (entry !== undefined && this.#now() - entry.checkedAt < this.#limits.freshMs) return entry;
    return undefined;
  }

  /** Forgets `key` (the file moved or vanished). */
  forget(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#entries.delete(key);
    if (entry.body !== null) this.#bodyBytes -= entry.body.length;
  }

  /**
   * Opens the file at `path` (already resolved and checked to be inside the root) for `key`,
   * caching it. Concurrent calls for one key share one disk read when the body is cacheable.
   */
  load(key: string, path: string, name: string): Promise<OpenedFile> {
    const pending = this.#loading.get(key);
    // A large file's descriptor belongs to the first caller: the others open their own, in parallel.
    if (pending !== undefined) return pending.then((opened) => (opened.handle === null ? opened : this.#openAgain(key, path, name, opened.file)));
    const loading = this.#load(key, path, name).finally(() => this.#loading.delete(key));
    this.#loading.set(key, loading);
    return loading;
  }

  /**
   * Opens the file of a fresh entry kept without its body. Returns null when the file changed
   * kind or vanished (the caller resolves the path again).
   */
  async reopen(key: string, entry: CachedFile): Promise<OpenedFile | null> {
    try {
      const { handle, stats } = await this.#files.open(entry.path);
      return { file: this.#remember(key, entry.path, entry.name, stats, null), handle };
    } catch {
      this.forget(key);
      return null;
    }
  }

  async #openAgain(key: string, path: string, name: string, file: CachedFile): Promise<OpenedFile> {
    return (await this.reopen(key, file)) ?? this.load(key, path, name);
  }

  async #load(key: string, path: string, name: string): Promise<OpenedFile> {
    const { handle, stats } = await this.#files.open(path);
    if (stats.size > this.#limits.maxFileBytes) return { file: this.#remember(key, path, name, stats, null), handle };
    const previous = this.#entries.get(key);
    try {
      if (previous?.body && sameVersion(previous, stats)) {
        return { file: this.#remember(key, path, name, stats, previous.body), handle: null };
      }
      const body = await readWhole(handle.fd, stats.size);
      return { file: this.#remember(key, path, name, stats, body), handle: null };
    } finally {
      handle.release();
    }
  }

  #remember(key: string, path: string, name: string, stats: Stats, body: Buffer | null): CachedFile {
    const previous = this.#entries.get(key);
    const size = body?.length ?? stats.size;
    const facts =
      previous && previous.path === path && previous.size === size && previous.mtimeMs === stats.mtimeMs
        ? previous.facts
        : this.#describe(name, size, stats.mtimeMs);
    this.forget(key);
    const entry: CachedFile = {
      path,
      name,
      size,
      mtimeMs: stats.mtimeMs,
      ino: stats.ino,
      dev: stats.dev,
      facts,
      body,
      checkedAt: this.#now(),
    };
    this.#entries.set(key, entry);
    if (body !== null) this.#bodyBytes += body.length;
    this.#evict();
    return entry;
  }

  #evict(): void {
    for (const key of this.#entries.keys()) {
      if (this.#entries.size <= this.#limits.maxEntries && this.#bodyBytes <= this.#limits.maxTotalBytes) return;
      this.forget(key);
    }
  }
}

function sameVersion(entry: CachedFile, stats: Stats): boolean {
  return entry.size === stats.size && entry.mtimeMs === stats.mtimeMs && entry.ino === stats.ino;
}

/** Opens a path and checks through the descriptor that it is a regular file. */
export async function openRegular(path: string): Promise<{ fd: number; stats: Stats }> {
  const fd = await openAsync(path, 'r');
  try {
    const stats = await fstatAsync(fd);
    if (!stats.isFile()) throw Object.assign(new Error(`${path} is not a regular file`), { code: 'ENOTFILE' });
    return { fd, stats };
  } catch (error) {
    await closeAsync(fd);
    throw error;
  }
}

async function readWhole(fd: number, size: number): Promise<Buffer> {
  const body = Buffer.allocUnsafeSlow(size);
  let offset = 0;
  while (offset < size) {
    const { bytesRead } = await readAsync(fd, body, offset, size - offset, offset);
    if (bytesRead === 0) break;
    offset += bytesRead;
  }
  // A file that shrank while being read is cached as what was read; its ETag follows suit.
  return offset === size ? body : body.subarray(0, offset);
}
