/**
 * Descriptors of large files shared by the responses reading them at the same time (a crowd of
 * players fetching one segment costs one open and one fstat, not one each). A descriptor is
 * shared only while it is younger than `freshMs` (a file replaced on disk is picked up as fast as
 * the memory cache picks up small ones) and is closed as soon as its last reader releases it.
 */
import { close, type Stats } from 'node:fs';
import { openRegular } from './file-cache.js';

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

  /** Opens `path` (a regular file) or shares a fresh descriptor already open on it. */
  async open(path: string): Promise<{ handle: FileHandle; stats: Stats }> {
    let entry = this.#entries.get(path);
    if (entry === undefined || this.#now() - entry.openedAt >= this.#freshMs) {
      let opening = this.#opening.get(path);
      if (opening === undefined) {
        opening = this.#openEntry(path).finally(() => this.#opening.delete(path));
        this.#opening.set(path, opening);
      }
      entry = await opening;
    }
    entry.refs++;
    return { handle: this.#handle(path, entry), stats: entry.stats };
  }

  /** Descriptors currently open (for tests). */
  get size(): number {
    return this.#entries.size;
  }

  async #openEntry(path: string): Promise<Entry> {
    const { fd, stats } = await openRegular(path);
    // refs starts at 0: the caller (and any concurrent one waiting on the same open) counts itself.
    const entry: Entry = { fd, stats, openedAt: this.#now(), refs: 0 };
    this.#entries.set(path, entry);
    return entry;
  }

  #handle(path: string, entry: Entry): FileHandle {
    let released = false;
    return {
      fd: entry.fd,
      release: () => {
        if (released) return;
        released = true;
        if (--entry.refs > 0) return;
        if (this.#entries.get(path) === entry) this.#entries.delete(path);
        close(entry.fd, () => {});
      },
    };
  }
}
