/**
 * A site (a server's default root or one of its virtual hosts) inside a worker: aliases, user
 * directories, resolver and file cache, turning a request path into something to send. No uWS.
 */
import { join } from 'node:path';
import type { AliasPlan, HttpPolicy, SitePlan } from '../../config/plan.js';
import { cacheControlForFile } from '../../http/cache-policy.js';
import type { BodyStore } from '../../files/body-store.js';
import type { DirectoryCache } from '../../files/directory-cache.js';
import type { ServerShaper } from '../../shaping/server-shaper.js';
import { ListingPages } from './listing-pages.js';
import { FileCache, type OpenedFile } from '../../files/file-cache.js';
import { CHANGED } from '../../files/safe-open.js';
import type { OpenFiles } from '../../files/open-files.js';
import { renderListing } from '../../http/listing.js';
import { contentTypeFor } from '../../http/mime.js';
import { SiteResolver, type Resolution } from '../../files/site-resolver.js';
import { UserHomes } from '../../files/user-homes.js';
import { fileValidators } from '../../http/validators.js';

export type SiteAnswer =
  | { readonly kind: 'file'; readonly opened: OpenedFile }
  | { readonly kind: 'redirect'; readonly location: string }
  | { readonly kind: 'listing'; readonly html: Buffer }
  | { readonly kind: 'listing-off' }
  | { readonly kind: 'not-found' }
  | { readonly kind: 'forbidden' };

/** A resolution and the resolver (root) that produced it. */
interface Routed {
  readonly resolution: Resolution;
  readonly resolver: SiteResolver;
}

const NOT_FOUND: Resolution = Object.freeze({ kind: 'not-found' });

export class SiteRuntime {
  readonly cache: FileCache;
  /** This virtual host's own limits (inside its server's), or null. */
  readonly shaper: ServerShaper | null;
  readonly #site: SitePlan;
  readonly #dotfiles: boolean;
  readonly #listings: boolean;
  readonly #directories: DirectoryCache;
  readonly #pages = new ListingPages();
  readonly #resolver: SiteResolver;
  readonly #homes: UserHomes | null;
  /** One resolver per user directory served (its public_html is a root of its own). */
  readonly #userResolvers = new Map<string, SiteResolver>();
  /** Resolutions under way, shared by concurrent requests for one path (a crowd starting at once). */
  readonly #resolving = new Map<string, Promise<Routed>>();

  constructor(site: SitePlan, http: HttpPolicy, files: OpenFiles, bodies: BodyStore, directories: DirectoryCache, shaper: ServerShaper | null) {
    this.shaper = shaper;
    this.#site = site;
    this.#dotfiles = http.dotfiles;
    this.#listings = http.listings;
    this.#directories = directories;
    this.#resolver = new SiteResolver(site, http.dotfiles, directories);
    this.#homes = site.userDirs === null ? null : new UserHomes(site.userDirs.passwd, site.userDirs.minUid);
    this.cache = new FileCache(
      (name, size, mtimeMs) => ({
        size,
        validators: fileValidators(size, mtimeMs),
        contentType: contentTypeFor(name, site.defaultType),
        cacheControl: cacheControlForFile(name, http.noCache),
      }),
      files,
      bodies,
    );
  }

  /**
   * Finds what `rawPath` (the cache key) names. A fresh cache entry kept without its body is
   * reopened directly; anything else goes through full resolution.
   */
  async answer(rawPath: string, segments: readonly string[], trailingSlash: boolean, query: string): Promise<SiteAnswer> {
    const fresh = this.cache.fresh(rawPath);
    if (fresh) {
      const body = fresh.stored?.buffer ?? null;
      const opened = body !== null ? { file: fresh, body, handle: null } : await this.cache.reopen(rawPath, fresh);
      if (opened) return { kind: 'file', opened };
    }
    // A file swapped between resolution and open is resolved once more, from scratch.
    for (let attempt = 0; ; attempt++) {
      const { resolution, resolver } =
        attempt === 0 ? await this.#resolve(rawPath, segments, trailingSlash, query) : await this.#route(segments, trailingSlash, query);
      if (resolution.kind === 'listing') return this.#listing(resolver, resolution.path, resolution.urlPath);
      if (resolution.kind !== 'file') {
        this.cache.forget(rawPath);
        return resolution;
      }
      try {
        return { kind: 'file', opened: await this.cache.load(rawPath, resolution) };
      } catch (error) {
        this.cache.forget(rawPath);
        if ((error as NodeJS.ErrnoException).code !== CHANGED || attempt > 0) throw error;
      }
    }
  }

  async #listing(resolver: SiteResolver, path: string, urlPath: string): Promise<SiteAnswer> {
    if (!this.#listings) return { kind: 'listing-off' };
    const version = await resolver.directory(path);
    const html = await this.#pages.get(`${path}\0${urlPath}`, version, async () => {
      const listed = await resolver.listEntries(path);
      const entries = listed.entries.map(({ name, stats }) => ({ name, isDirectory: stats.isDirectory(), size: stats.size, mtimeMs: stats.mtimeMs }));
      return { version: listed.version, html: renderListing(urlPath, entries) };
    });
    return { kind: 'listing', html };
  }

  #resolve(rawPath: string, segments: readonly string[], trailingSlash: boolean, query: string): Promise<Routed> {
    // Redirects carry the query: only query-less requests share a resolution.
    if (query !== '') return this.#route(segments, trailingSlash, query);
    let pending = this.#resolving.get(rawPath);
    if (pending === undefined) {
      pending = this.#route(segments, trailingSlash, query).finally(() => this.#resolving.delete(rawPath));
      this.#resolving.set(rawPath, pending);
    }
    return pending;
  }

  /** `/~name/...` to the user's public_html when user directories are on, else aliases then the root. */
  async #route(segments: readonly string[], trailingSlash: boolean, query: string): Promise<Routed> {
    const first = segments[0];
    if (this.#homes !== null && first !== undefined && first.startsWith('~')) {
      const account = await this.#homes.account(first.slice(1));
      if (account === null) return { resolution: NOT_FOUND, resolver: this.#resolver };
      const resolver = this.#userResolver(join(account.home, 'public_html'), account.uid);
      return { resolution: await resolver.resolve(segments.slice(1), trailingSlash, query, segments), resolver };
    }
    const resolution = await this.#resolver.resolve(applyAliases(this.#site.aliases, segments), trailingSlash, query, segments);
    return { resolution, resolver: this.#resolver };
  }

  #userResolver(root: string, uid: number): SiteResolver {
    const key = `${uid}:${root}`;
    let resolver = this.#userResolvers.get(key);
    if (resolver === undefined) {
      resolver = new SiteResolver({ ...this.#site, root, rootIsFile: false, aliases: [], userDirs: null }, this.#dotfiles, this.#directories, uid);
      this.#userResolvers.set(key, resolver);
    }
    return resolver;
  }
}

/**
 * The seed's rewrite: each alias in turn, when the path starts with its virtual segments, swaps
 * them for its real ones (none: the root itself).
 */
export function applyAliases(aliases: readonly AliasPlan[], segments: readonly string[]): readonly string[] {
  let path = segments;
  for (const alias of aliases) {
    if (alias.from.length <= path.length && alias.from.every((segment, i) => path[i] === segment)) {
      path = [...alias.to, ...path.slice(alias.from.length)];
    }
  }
  return path;
}

/** Frees what an answer holds when it will not be sent (the client went away). */
export function discardAnswer(answer: SiteAnswer): void {
  if (answer.kind === 'file') answer.opened.handle?.release();
}
