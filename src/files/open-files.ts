/**
 * Descriptors of large files shared by the responses reading them at the same time (a crowd of
 * players fetching one segment costs one open and one fstat, not one each). A descriptor is
 * shared only while it is younger than `freshMs` (a file replaced on disk is picked up as fast as
 * the memory cache picks up small ones) and is closed as soon as its last reader releases it.
 */
import { close, type Stats } from 'node:fs';
import { openVerified, type Expected } from './safe-open.js';

/** A shared descriptor; `release()` is idempotent. */
export interface FileHandle {
  readonly fd: number;
  release(): void;
}

interface Entry {
  readonly fd: number;
  readonly stats: Stats;
  readonly openedAt: number;
  refs: number;
}

export class OpenFiles {
  readonly #freshMs: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  readonly #opening = new Map<string, Promise<Entry>>();

  constructor(freshMs = 1000, now: () => number = Date.now) {
    this.#freshMs = freshMs;
    this.#now = now;
  }

  /**
   * Opens `path` (a regular file, checked on its descriptor to be the `expected` one) or shares a
   * fresh descriptor already open on it.
   */
  async open(path: string, expected: Expected): Promise<{ handle: FileHandle; stats: Stats }> {
    // The root is part of the key: a descriptor checked to lie under one root says nothing of another.
    const key = `${expected.root}\0${path}`;
    let entry = this.#entries.get(key);
    if (entry === undefined || this.#now() - entry.openedAt >= this.#freshMs || !matches(entry.stats, expected)) {
      let opening = this.#opening.get(key);
      if (opening === undefined) {
        opening = this.#openEntry(key, path, expected).finally(() => this.#opening.delete(key));
        this.#opening.set(key, opening);
      }
      entry = await opening;
      if (!matches(entry.stats, expected)) return this.open(path, expected);
    }
    entry.refs++;
    return { handle: this.#handle(key, entry), stats: entry.stats };
  }

  /** Descriptors currently open (for tests). */
  get size(): number {
    return this.#entries.size;
  }

  async #openEntry(key: string, path: string, expected: Expected): Promise<Entry> {
    const { fd, stats } = await openVerified(path, expected);
    // refs starts at 0: the caller (and any concurrent one waiting on the same open) counts itself.
    const entry: Entry = { fd, stats, openedAt: this.#now(), refs: 0 };
    const previous = this.#entries.get(key);
    // A replaced entry nobody reads any more would otherwise never be closed.
    if (previous !== undefined && previous.refs === 0) close(previous.fd, () => {});
    this.#entries.set(key, entry);
    return entry;
  }

  #handle(key: string, entry: Entry): FileHandle {
    let released = false;
    return {
      fd: entry.fd,
      release: () => {
        if (released) return;
        released = true;
        if (--entry.refs > 0) return;
        if (this.#entries.get(key) === entry) this.#entries.delete(key);
        close(entry.fd, () => {});
      },
    };
  }
}

function matches(stats: Stats, expected: Expected): boolean {
  return (expected.dev === undefined || stats.dev === expected.dev) && (expected.ino === undefined || stats.ino === expected.ino);
}
