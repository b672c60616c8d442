/**
 * Per-worker cache of resolved files, keyed by request path. An entry says which file version a
 * path names (where it is, its identity, its response facts); small files' bytes live in the
 * process-wide body store, shared by every path naming that version. An entry is trusted for
 * `freshMs` after it was last checked against the disk (size, mtime, inode), so a live playlist
 * rewritten every second is never served stale for longer than about that. Bounded in entries;
 * the oldest entries go first.
 */
import { read, type Stats } from 'node:fs';
import { promisify } from 'node:util';
import type { FileFacts, FileResponsePlan, RawHeader } from '../http/file-response-plan.js';
import type { BodyStore, StoredBody } from './body-store.js';
import type { FileHandle, OpenFiles } from './open-files.js';
import type { Expected } from './safe-open.js';

const readAsync = promisify(read);

export interface CacheLimits {
  /** Files up to this size keep their bytes in memory. */
  readonly maxFileBytes: number;
  readonly maxEntries: number;
  /** How long an entry is trusted before it is checked against the disk again. */
  readonly freshMs: number;
}

export const DEFAULT_CACHE_LIMITS: CacheLimits = Object.freeze({
  maxFileBytes: 1024 * 1024,
  maxEntries: 10_000,
  freshMs: 1000,
});

/** Total bytes of small-file bodies kept in memory by the whole process. */
export const DEFAULT_BODY_BUDGET_BYTES = 64 * 1024 * 1024;

export interface CachedFile {
  /** Real path of the file and of the root it was resolved under. */
  readonly path: string;
  readonly root: string;
  readonly owner?: number;
  readonly name: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
  readonly dev: number;
  readonly facts: FileFacts;
  /** The whole file when it is small enough and the store holds it; else read it from disk. */
  readonly stored: StoredBody | null;
  checkedAt: number;
  /**
   * The response to requests without range or validators, with its headers in the form the
   * responder sends (pre-encoded bytes); computed on first use.
   */
  plain?: { readonly plan: FileResponsePlan; readonly headers: readonly RawHeader[] };
}

/**
 * A file ready to serve: its bytes from memory (`body`, `handle` null) or a descriptor the caller
 * must release (`body` null).
 */
export interface OpenedFile {
  readonly file: CachedFile;
  readonly body: Buffer | null;
  readonly handle: FileHandle | null;
}

/** Where a resolved file is: its real path, the root it lies under, and its identity then. */
export interface ResolvedFile {
  readonly path: string;
  readonly root: string;
  readonly name: string;
  readonly dev: number;
  readonly ino: number;
  /** Uid that must own the file (user directories), if any. */
  readonly owner?: number;
}

export type DescribeFile = (name: string, size: number, mtimeMs: number) => FileFacts;

export class FileCache {
  readonly #limits: CacheLimits;
  readonly #describe: DescribeFile;
  readonly #files: OpenFiles;
  readonly #bodies: BodyStore;
  readonly #now: () => number;
  readonly #entries = new Map<string, CachedFile>();
  readonly #loading = new Map<string, Promise<OpenedFile>>();

  constructor(describe: DescribeFile, files: OpenFiles, bodies: BodyStore, limits: CacheLimits = DEFAULT_CACHE_LIMITS, now: () => number = Date.now) {
    this.#describe = describe;
    this.#files = files;
    this.#bodies = bodies;
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
    this.#entries.delete(key);
  }

  /**
   * Opens the resolved file for `key`, caching it. Concurrent calls for one key share one disk
   * read when the body is cacheable.
   */
  load(key: string, resolved: ResolvedFile): Promise<OpenedFile> {
    const pending = this.#loading.get(key);
    // A large file's descriptor belongs to the first caller: the others open their own, in parallel.
    if (pending !== undefined) return pending.then((opened) => (opened.handle === null ? opened : this.#openAgain(key, resolved, opened.file)));
    const loading = this.#load(key, resolved).finally(() => this.#loading.delete(key));
    this.#loading.set(key, loading);
    return loading;
  }

  /**
   * Opens the file of a fresh entry whose body is not in memory, checking on the descriptor that
   * it is still the file resolved. Null when it changed or vanished (the caller resolves again).
   */
  async reopen(key: string, entry: CachedFile): Promise<OpenedFile | null> {
    try {
      const { handle, stats } = await this.#files.open(entry.path, expectedOf(entry));
      return { file: this.#remember(key, entry, stats, null), body: null, handle };
    } catch {
      this.forget(key);
      return null;
    }
  }

  async #openAgain(key: string, resolved: ResolvedFile, file: CachedFile): Promise<OpenedFile> {
    return (await this.reopen(key, file)) ?? this.load(key, resolved);
  }

  async #load(key: string, resolved: ResolvedFile): Promise<OpenedFile> {
    const { handle, stats } = await this.#files.open(resolved.path, expectedOf(resolved));
    if (stats.size > this.#limits.maxFileBytes) return { file: this.#remember(key, resolved, stats, null), body: null, handle };
    try {
      const identity = { dev: stats.dev, ino: stats.ino, size: stats.size, mtimeMs: stats.mtimeMs };
      let stored = this.#bodies.get(identity);
      if (!stored?.buffer) {
        const body = await readWhole(handle.fd, stats.size);
        // A file that shrank while being read is sent as what was read, and not kept.
        if (body.length !== stats.size) return { file: this.#remember(key, resolved, stats, null, body.length), body, handle: null };
        stored = this.#bodies.put(identity, body);
        if (stored.buffer === null) return { file: this.#remember(key, resolved, stats, null), body, handle: null };
      }
      return { file: this.#remember(key, resolved, stats, stored), body: stored.buffer, handle: null };
    } finally {
      handle.release();
    }
  }

  #remember(key: string, where: ResolvedFile, stats: Stats, stored: StoredBody | null, size = stats.size): CachedFile {
    const previous = this.#entries.get(key);
    const facts =
      previous && previous.path === where.path && previous.size === size && previous.mtimeMs === stats.mtimeMs
        ? previous.facts
        : this.#describe(where.name, size, stats.mtimeMs);
    this.#entries.delete(key);
    const entry: CachedFile = {
      path: where.path,
      root: where.root,
      ...(where.owner === undefined ? {} : { owner: where.owner }),
      name: where.name,
      size,
      mtimeMs: stats.mtimeMs,
      ino: stats.ino,
      dev: stats.dev,
      facts,
      stored,
      checkedAt: this.#now(),
    };
    this.#entries.set(key, entry);
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.#limits.maxEntries) break;
      this.#entries.delete(oldest);
    }
    return entry;
  }
}

function expectedOf(file: ResolvedFile): Expected {
  return { root: file.root, dev: file.dev, ino: file.ino, ...(file.owner === undefined ? {} : { owner: file.owner }) };
}

async function readWhole(fd: number, size: number): Promise<Buffer> {
  const body = Buffer.allocUnsafeSlow(size);
  let offset = 0;
  while (offset < size) {
    const { bytesRead } = await readAsync(fd, body, offset, size - offset, offset);
    if (bytesRead === 0) break;
    offset += bytesRead;
  }
  return offset === size ? body : body.subarray(0, offset);
}
