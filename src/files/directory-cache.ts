/**
 * Directory contents, read once and kept while the directory is unchanged: listings and
 * `--allow-ignore-ext` lookups in a 20,000-entry directory cost one readdir per change of the
 * directory, not one per request. A directory is checked again (one stat) at most once per
 * `freshMs`. Every filesystem call made for directories goes through one per-worker limiter, so
 * a crowd of listing requests holds at most a few of the thread pool's threads at a time and file
 * reads keep flowing between them.
 *
 * A directory is opened and checked on its descriptor (safe-open.ts) and, on Linux, read and
 * stat'ed through that descriptor: one swapped for a symlink after it was resolved is refused
 * instead of listed.
 */
import type { Stats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import pLimit, { type LimitFunction } from 'p-limit';
import { closeDescriptor, descriptorPath, FD_PATHS, openDirectoryVerified, type Expected } from './safe-open.js';

/** Filesystem calls for directories in flight at once, per worker. */
const DIRECTORY_IO_CONCURRENCY = 4;

/** One reading of a directory; a new object whenever the directory changed. */
export interface DirectoryVersion {
  /** Every entry with its lstat() (an entry that vanished while being read is left out). */
  readonly entries: ReadonlyArray<{ readonly name: string; readonly stats: Stats }>;
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

  /**
   * The entries of the directory at `path` (a real path resolved under `expected.root`), from
   * memory while it is unchanged.
   */
  read(path: string, expected: Expected): Promise<DirectoryVersion> {
    const key = `${expected.root}\0${path}`;
    const entry = this.#entries.get(key);
    if (entry !== undefined && this.#now() - entry.checkedAt < this.#freshMs) return Promise.resolve(entry.version);
    let reading = this.#reading.get(key);
    if (reading === undefined) {
      reading = this.#refresh(key, path, expected, entry).finally(() => this.#reading.delete(key));
      this.#reading.set(key, reading);
    }
    return reading;
  }

  /** Any other filesystem work for directories, under the limiter. */
  limited<T>(work: () => Promise<T>): Promise<T> {
    return this.#limit(work);
  }

  async #refresh(key: string, path: string, expected: Expected, previous: Entry | undefined): Promise<DirectoryVersion> {
    const { fd, stats } = await this.#limit(() => openDirectoryVerified(path, expected));
    try {
      const now = this.#now();
      if (previous !== undefined && previous.version.mtimeMs === stats.mtimeMs && previous.version.ino === stats.ino) {
        previous.checkedAt = now;
        return previous.version;
      }
      // Through the descriptor: the directory checked is the one read, whatever its name leads to now.
      const base = FD_PATHS ? descriptorPath(fd) : path;
      const names = await this.#limit(() => readdir(base));
      const entries = (
        await Promise.all(names.map((name) => this.#limit(() => lstat(join(base, name))).then((s) => ({ name, stats: s }), () => null)))
      ).filter((e): e is { name: string; stats: Stats } => e !== null);
      const version: DirectoryVersion = { entries, mtimeMs: stats.mtimeMs, ino: stats.ino };
      this.#remember(key, version, now);
      return version;
    } finally {
      await closeDescriptor(fd);
    }
  }

  #remember(key: string, version: DirectoryVersion, now: number): void {
    this.#entries.delete(key);
    this.#entries.set(key, { version, checkedAt: now });
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.#maxDirectories) break;
      this.#entries.delete(oldest);
    }
  }
}
