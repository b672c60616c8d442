/**
 * Maps decoded request paths to what to serve under a site's root: a file, a redirect to the
 * slash form of a directory, a directory listing, or nothing. Symlinks are followed only while
 * they stay inside the root; hidden names only with --dotfiles; never anything but regular files
 * and directories (a FIFO or device under the root would hang or leak).
 */
import type { Dirent, Stats } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, join, sep } from 'node:path';
import type { SitePlan } from '../config/plan.js';
import { encodePath, isHiddenSegment } from './request-path.js';

export type Resolution =
  | { readonly kind: 'file'; readonly path: string; readonly name: string }
  | { readonly kind: 'redirect'; readonly location: string }
  | { readonly kind: 'listing'; readonly path: string; readonly urlPath: string }
  | { readonly kind: 'not-found' }
  | { readonly kind: 'forbidden' };

const NOT_FOUND: Resolution = Object.freeze({ kind: 'not-found' });
const FORBIDDEN: Resolution = Object.freeze({ kind: 'forbidden' });

export class SiteResolver {
  readonly site: SitePlan;
  readonly #dotfiles: boolean;
  #realRoot: Promise<string> | undefined;

  constructor(site: SitePlan, dotfiles: boolean) {
    this.site = site;
    this.#dotfiles = dotfiles;
  }

  /**
   * Resolves decoded segments under the root. `requestSegments` are the path as the client asked
   * for it (before aliases or a user prefix were taken off): redirects and listing titles use it,
   * hidden names are judged on it. `query` ('' or without '?') is kept in redirects.
   */
  async resolve(
    segments: readonly string[],
    trailingSlash: boolean,
    query: string,
    requestSegments: readonly string[] = segments,
  ): Promise<Resolution> {
    // Judged on what the client asked for: an alias may point into a hidden directory on purpose.
    if (!this.#dotfiles && requestSegments.some(isHiddenSegment)) return NOT_FOUND;
    if (this.site.rootIsFile) return this.#resolveFileRoot(segments, trailingSlash);
    let root: string;
    try {
      root = await this.#root();
    } catch (error) {
      // A root that is gone (or a user without public_html) has nothing to serve.
      if (isMissingError(error)) return NOT_FOUND;
      if (isPermissionError(error)) return FORBIDDEN;
      throw error;
    }
    const found = await this.#locate(root, segments, trailingSlash);
    if (found.kind !== 'entry') return found.resolution;
    const { path, stats } = found;
    if (stats.isFile()) {
      if (trailingSlash) return NOT_FOUND;
      return { kind: 'file', path, name: basename(path) };
    }
    if (!stats.isDirectory()) return NOT_FOUND;
    if (!trailingSlash) {
      return { kind: 'redirect', location: encodePath(requestSegments, true) + (query === '' ? '' : `?${query}`) };
    }
    for (const index of this.site.indexes) {
      const candidate = await this.#inside(root, join(path, index)).catch(() => null);
      if (candidate?.stats.isFile()) return { kind: 'file', path: candidate.path, name: index };
    }
    return { kind: 'listing', path, urlPath: `/${requestSegments.map((s) => `${s}/`).join('')}` };
  }

  /** Entries of a directory to list: hidden ones only with --dotfiles, nothing leaving the root. */
  async listEntries(directory: string): Promise<Array<{ name: string; stats: Stats }>> {
    const root = await this.#root();
    const dirents: Dirent[] = await readdir(directory, { withFileTypes: true });
    const entries = await Promise.all(
      dirents
        .filter((d) => this.#dotfiles || !isHiddenSegment(d.name))
        .map(async (d) => {
          const found = await this.#inside(root, join(directory, d.name)).catch(() => null);
          if (!found || !(found.stats.isFile() || found.stats.isDirectory())) return null;
          return { name: d.name, stats: found.stats };
        }),
    );
    return entries.filter((e): e is { name: string; stats: Stats } => e !== null);
  }

  #root(): Promise<string> {
    // A failure is not remembered: the root may appear later.
    this.#realRoot ??= realpath(this.site.root).catch((error: unknown) => {
      this.#realRoot = undefined;
      throw error;
    });
    return this.#realRoot;
  }

  #resolveFileRoot(segments: readonly string[], trailingSlash: boolean): Resolution {
    const name = basename(this.site.root);
    const matches = segments.length === 0 || (segments.length === 1 && segments[0] === name && !trailingSlash);
    return matches ? { kind: 'file', path: this.site.root, name } : NOT_FOUND;
  }

  async #locate(
    root: string,
    segments: readonly string[],
    trailingSlash: boolean,
  ): Promise<{ kind: 'entry'; path: string; stats: Stats } | { kind: 'done'; resolution: Resolution }> {
    const target = join(root, ...segments);
    try {
      const found = await this.#inside(root, target);
      if (found) return { kind: 'entry', ...found };
      return { kind: 'done', resolution: NOT_FOUND };
    } catch (error) {
      if (isPermissionError(error)) return { kind: 'done', resolution: FORBIDDEN };
      if (!isMissingError(error)) throw error;
    }
    if (trailingSlash || segments.length === 0 || this.site.ignoreExts.length === 0) {
      return { kind: 'done', resolution: NOT_FOUND };
    }
    const sibling = await this.#siblingWithExtension(root, segments);
    return sibling ? { kind: 'entry', ...sibling } : { kind: 'done', resolution: NOT_FOUND };
  }

  /**
   * Twisted's ignore-ext: a request for `foo` may serve `foo.EXT`, extensions tried in order;
   * `*` takes the first existing `foo.*` in name order.
   */
  async #siblingWithExtension(root: string, segments: readonly string[]): Promise<{ path: string; stats: Stats } | null> {
    const name = segments[segments.length - 1]!;
    const parent = join(root, ...segments.slice(0, -1));
    for (const ext of this.site.ignoreExts) {
      const candidates = ext === '*' ? await this.#anyExtension(parent, name) : [`${name}.${ext}`];
      for (const candidate of candidates) {
        const found = await this.#inside(root, join(parent, candidate)).catch(() => null);
        if (found?.stats.isFile()) return found;
      }
    }
    return null;
  }

  async #anyExtension(parent: string, name: string): Promise<string[]> {
    const prefix = `${name}.`;
    const names = await readdir(parent).catch(() => [] as string[]);
    return names.filter((n) => n.startsWith(prefix) && n.length > prefix.length && (this.#dotfiles || !isHiddenSegment(n))).sort();
  }

  /**
   * Real path and stats of `path` when it resolves inside the root; null when a symlink leads
   * out. Throws the filesystem error when it does not exist or cannot be read.
   */
  async #inside(root: string, path: string): Promise<{ path: string; stats: Stats } | null> {
    const real = await realpath(path);
    if (real !== root && !real.startsWith(root.endsWith(sep) ? root : root + sep)) return null;
    return { path: real, stats: await stat(real) };
  }
}

function isMissingError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG' || code === 'ELOOP';
}

function isPermissionError(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'EACCES';
}
