/**
 * Rendered directory listings, kept while their directory is unchanged (and at most `maxAgeMs`,
 * since a file can change size without its directory changing). Concurrent requests for the same
 * listing share one build. Bounded in bytes; the oldest pages go first.
 */
import type { DirectoryVersion } from '../../files/directory-cache.js';

interface Page {
  readonly version: DirectoryVersion;
  readonly html: Buffer;
  readonly builtAt: number;
}

export class ListingPages {
  readonly #maxAgeMs: number;
  readonly #maxBytes: number;
  readonly #pages = new Map<string, Page>();
  readonly #building = new Map<string, Promise<Buffer>>();
  #bytes = 0;

  constructor(maxAgeMs = 10_000, maxBytes = 16 * 1024 * 1024) {
    this.#maxAgeMs = maxAgeMs;
    this.#maxBytes = maxBytes;
  }

  /** The page for `key` rendered from `version`, or a new one from `build`. */
  get(key: string, version: DirectoryVersion, build: () => Promise<{ version: DirectoryVersion; html: string }>): Promise<Buffer> {
    const page = this.#pages.get(key);
    if (page !== undefined && page.version === version && performance.now() - page.builtAt < this.#maxAgeMs) return Promise.resolve(page.html);
    let building = this.#building.get(key);
    if (building === undefined) {
      building = build()
        .then(({ version: built, html }) => this.#keep(key, built, Buffer.from(html)))
        .finally(() => this.#building.delete(key));
      this.#building.set(key, building);
    }
    return building;
  }

  #keep(key: string, version: DirectoryVersion, html: Buffer): Buffer {
    const previous = this.#pages.get(key);
    if (previous !== undefined) {
      this.#pages.delete(key);
      this.#bytes -= previous.html.length;
    }
    if (html.length > this.#maxBytes) return html;
    this.#pages.set(key, { version, html, builtAt: performance.now() });
    this.#bytes += html.length;
    for (const [oldKey, old] of this.#pages) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#pages.delete(oldKey);
      this.#bytes -= old.html.length;
    }
    return html;
  }
}
