/**
 * Directory contents, read once and kept while the directory is unchanged: listings and
 * `--allow-ignore-ext` lookups in a 20,000-entry directory cost one readdir per change of the
 * directory, not one per request. A directory is checked again (one stat) at most once per
 * `freshMs`. Every filesystem call made for directories goes through one per-worker limiter, so
 * a crowd of listing requests holds at most a few of the thread pool's threads at a time and file
 * reads keep flowing between them.
 */
import type { Dirent, Stats } from 'node:fs';
import { lstat, readdir, stat } from 'node:fs/promises';
import pLimit, { type LimitFunction } from 'p-limit';

/** Filesystem calls for directories in flight at once, per worker. */
export const DIRECTORY_IO_CONCURRENCY = 4;

/** One reading of a directory; a new object whenever the directory changed. */
export interface DirectoryVersion {
  readonly entries: readonly Dirent[];
  readonly mtimeMs: number;
  readonly ino: number;
}

interface Entry {
  version: DirectoryVersion;
  checkedAt: number;
}

export class DirectoryCache {
  readonly #limit: LimitFunction;
  readonly #freshMs: number;
  readonly #maxDirectories: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  readonly #reading = new Map<string, Promise<DirectoryVersion>>();

  constructor(concurrency = DIRECTORY_IO_CONCURRENCY, freshMs = 1000, maxDirectories = 256, now: () => number = performance.now.bind(performance)) {
    this.#limit = pLimit(concurrency);
    this.#freshMs = freshMs;
    this.#maxDirectories = maxDirectories;
    this.#now = now;
  }

  /** The entries of the directory at `path` (a real path), from memory while it is unchanged. */
  read(path: string): Promise<DirectoryVersion> {
    const entry = this.#entries.get(path);
    if (entry !== undefined && this.#now() - entry.checkedAt < this.#freshMs) return Promise.resolve(entry.version);
    let reading = this.#reading.get(path);
    if (reading === undefined) {
      reading = this.#refresh(path, entry).finally(() => this.#reading.delete(path));
      this.#reading.set(path, reading);
    }
    return reading;
  }

  /** stat() under the limiter. */
  stat(path: string): Promise<Stats> {
    return this.#limit(() => stat(path));
  }

  /** lstat() under the limiter. */
  lstat(path: string): Promise<Stats> {
    return this.#limit(() => lstat(path));
  }

  /** Any other filesystem work for directories, under the limiter. */
  limited<T>(work: () => Promise<T>): Promise<T> {
    return this.#limit(work);
  }

  async #refresh(path: string, previous: Entry | undefined): Promise<DirectoryVersion> {
    const stats = await this.stat(path);
    const now = this.#now();
    if (previous !== undefined && previous.version.mtimeMs === stats.mtimeMs && previous.version.ino === stats.ino) {
      previous.checkedAt = now;
      return previous.version;
    }
    const entries = await this.#limit(() => readdir(path, { withFileTypes: true }));
    const version: DirectoryVersion = { entries, mtimeMs: stats.mtimeMs, ino: stats.ino };
    this.#entries.delete(path);
    this.#entries.set(path, { version, checkedAt: now });
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.#maxDirectories) break;
      this.#entries.delete(oldest);
    }
    return version;
  }
}
