/**
 * A site (a server's default root, later each vhost) inside a worker: resolver plus file cache,
 * turning a request path into something to send. No uWS here.
 */
import { close } from 'node:fs';
import type { HttpPolicy, SitePlan } from '../config/plan.js';
import { cacheControlForFile } from '../http/cache-policy.js';
import { FileCache, type OpenedFile } from '../http/file-cache.js';
import { renderListing } from '../http/listing.js';
import { contentTypeFor } from '../http/mime.js';
import { SiteResolver, type Resolution } from '../http/site-resolver.js';
import { fileValidators } from '../http/validators.js';

export type SiteAnswer =
  | { readonly kind: 'file'; readonly opened: OpenedFile }
  | { readonly kind: 'redirect'; readonly location: string }
  | { readonly kind: 'listing'; readonly html: string }
  | { readonly kind: 'not-found' }
  | { readonly kind: 'forbidden' };

export class SiteRuntime {
  readonly cache: FileCache;
  readonly #resolver: SiteResolver;
  /** Resolutions under way, shared by concurrent requests for one path (a crowd starting at once). */
  readonly #resolving = new Map<string, Promise<Resolution>>();

  constructor(site: SitePlan, http: HttpPolicy) {
    this.#resolver = new SiteResolver(site, http.dotfiles);
    this.cache = new FileCache((name, size, mtimeMs) => ({
      size,
      validators: fileValidators(size, mtimeMs),
      contentType: contentTypeFor(name, site.defaultType),
      cacheControl: cacheControlForFile(name, http.noCache),
    }));
  }

  /**
   * Finds what `rawPath` (the cache key) names. A fresh cache entry kept without its body is
   * reopened directly; anything else goes through full resolution.
   */
  async answer(rawPath: string, segments: readonly string[], trailingSlash: boolean, query: string): Promise<SiteAnswer> {
    const fresh = this.cache.fresh(rawPath);
    if (fresh) {
      const opened = fresh.body ? { file: fresh, fd: null } : await this.cache.reopen(rawPath, fresh);
      if (opened) return { kind: 'file', opened };
    }
    const resolution = await this.#resolve(rawPath, segments, trailingSlash, query);
    switch (resolution.kind) {
      case 'file':
        return { kind: 'file', opened: await this.cache.load(rawPath, resolution.path, resolution.name) };
      case 'listing': {
        const entries = await this.#resolver.listEntries(resolution.path);
        const html = renderListing(
          resolution.urlPath,
          entries.map(({ name, stats }) => ({ name, isDirectory: stats.isDirectory(), size: stats.size, mtimeMs: stats.mtimeMs })),
        );
        return { kind: 'listing', html };
      }
      default:
        this.cache.forget(rawPath);
        return resolution;
    }
  }

  #resolve(rawPath: string, segments: readonly string[], trailingSlash: boolean, query: string): Promise<Resolution> {
    // Redirects carry the query: only query-less requests share a resolution.
    if (query !== '') return this.#resolver.resolve(segments, trailingSlash, query);
    let pending = this.#resolving.get(rawPath);
    if (pending === undefined) {
      pending = this.#resolver.resolve(segments, trailingSlash, query).finally(() => this.#resolving.delete(rawPath));
      this.#resolving.set(rawPath, pending);
    }
    return pending;
  }
}

/** Frees what an answer holds when it will not be sent (the client went away). */
export function discardAnswer(answer: SiteAnswer): void {
  if (answer.kind === 'file' && answer.opened.fd !== null) close(answer.opened.fd, () => {});
}
