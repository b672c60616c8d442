/**
 * Maps decoded request paths to what to serve under a site's root: a file, a redirect to the
 * slash form of a directory, a directory listing, or nothing. Symlinks are followed only while
 * they stay inside the root; hidden names only with --dotfiles; never anything but regular files
 * and directories (a FIFO or device under the root would hang or leak). A user directory
 * (`public_html`) has an owner: the root itself must be a real directory of that owner, and a
 * symlink inside it is followed only when the link and its target have the same owner (Apache's
 * SymLinksIfOwnerMatch). The opened descriptor is checked again (safe-open.ts).
 */
import type { Stats } from 'node:fs';
import { lstat, realpath, stat } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import type { SitePlan } from '../config/plan.js';
import { encodePath, isHiddenSegment } from '../http/request-path.js';
import type { DirectoryCache, DirectoryVersion } from './directory-cache.js';
import { fileErrorKind } from './file-errors.js';
import type { ResolvedFile } from './file-cache.js';
import { isInside, ownedDirectoryPath, type Expected } from './safe-open.js';

export type Resolution =
  | ({ readonly kind: 'file' } & ResolvedFile)
  | { readonly kind: 'redirect'; readonly location: string }
  | { readonly kind: 'listing'; readonly path: string; readonly urlPath: string }
  | { readonly kind: 'not-found' }
  | { readonly kind: 'forbidden' };

/** A directory's entries to list, and the reading of the directory they come from. */
export interface Listed {
  readonly version: DirectoryVersion;
  readonly entries: ReadonlyArray<{ readonly name: string; readonly stats: Stats }>;
}

const NOT_FOUND: Resolution = Object.freeze({ kind: 'not-found' });
const FORBIDDEN: Resolution = Object.freeze({ kind: 'forbidden' });
/** How long an owned root's checks are trusted (its owner may swap it for a symlink at any time). */
const OWNED_ROOT_FRESH_MS = 1000;

export class SiteResolver {
  readonly site: SitePlan;
  readonly #dotfiles: boolean;
  /** Uid owning the root and every symlink followed, for user directories; null otherwise. */
  readonly #owner: number | null;
  readonly #directories: DirectoryCache;
  #realRoot: Promise<string> | undefined;
  #rootCheckedAt = 0;

  constructor(site: SitePlan, dotfiles: boolean, directories: DirectoryCache, owner: number | null = null) {
    this.site = site;
    this.#dotfiles = dotfiles;
    this.#directories = directories;
    this.#owner = owner;
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
      return fileResolution(root, path, basename(path), stats, this.#owner);
    }
    if (!stats.isDirectory()) return NOT_FOUND;
    if (!trailingSlash) {
      return { kind: 'redirect', location: encodePath(requestSegments, true) + (query === '' ? '' : `?${query}`) };
    }
    for (const index of this.site.indexes) {
      const candidate = await this.#inside(root, join(path, index)).catch(() => null);
      if (candidate?.stats.isFile()) return fileResolution(root, candidate.path, index, candidate.stats, this.#owner);
    }
    return { kind: 'listing', path, urlPath: `/${requestSegments.map((s) => `${s}/`).join('')}` };
  }

  /** The current reading of a directory this resolver resolved (a real path under its root). */
  async directory(path: string): Promise<DirectoryVersion> {
    return this.#directories.read(path, this.#expected(await this.#root()));
  }

  /** Entries of a directory to list: hidden ones only with --dotfiles, nothing leaving the root. */
  async listEntries(directory: string): Promise<Listed> {
    const root = await this.#root();
    const version = await this.#directories.read(directory, this.#expected(root));
    const entries = await Promise.all(
      version.entries
        .filter((entry) => this.#dotfiles || !isHiddenSegment(entry.name))
        .map(async (entry) => {
          // A plain entry has its stats from the reading; only symlinks are resolved and checked.
          const found = entry.stats.isSymbolicLink()
            ? await this.#directories.limited(() => this.#inside(root, join(directory, entry.name))).catch(() => null)
            : entry;
          if (!found || !(found.stats.isFile() || found.stats.isDirectory())) return null;
          return { name: entry.name, stats: found.stats };
        }),
    );
    return { version, entries: entries.filter((e): e is { name: string; stats: Stats } => e !== null) };
  }

  #expected(root: string): Expected {
    return this.#owner === null ? { root } : { root, owner: this.#owner };
  }

  #root(): Promise<string> {
    if (this.#owner !== null && performance.now() - this.#rootCheckedAt >= OWNED_ROOT_FRESH_MS) this.#realRoot = undefined;
    // A failure is not remembered: the root may appear later.
    this.#realRoot ??= this.#checkRoot().catch((error: unknown) => {
      this.#realRoot = undefined;
      throw error;
    });
    return this.#realRoot;
  }

  async #checkRoot(): Promise<string> {
    if (this.#owner === null) return realpath(this.site.root);
    this.#rootCheckedAt = performance.now();
    // A public_html that is a symlink, not a directory, or someone else's is not served at all;
    // its path is taken from the descriptor whose owner was checked (its owner may swap it).
    return ownedDirectoryPath(this.site.root, this.#owner);
  }

  async #resolveFileRoot(segments: readonly string[], trailingSlash: boolean): Promise<Resolution> {
    const name = basename(this.site.root);
    const matches = segments.length === 0 || (segments.length === 1 && segments[0] === name && !trailingSlash);
    if (!matches) return NOT_FOUND;
    try {
      // The file is its own root: the descriptor must be that very file.
      const real = await this.#root();
      return fileResolution(real, real, name, await stat(real), this.#owner);
    } catch (error) {
      if (isMissingError(error)) return NOT_FOUND;
      if (isPermissionError(error)) return FORBIDDEN;
      throw error;
    }
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
      const candidates = ext === '*' ? await this.#anyExtension(root, parent, name) : [`${name}.${ext}`];
      for (const candidate of candidates) {
        const found = await this.#inside(root, join(parent, candidate)).catch(() => null);
        if (found?.stats.isFile()) return found;
      }
    }
    return null;
  }

  async #anyExtension(root: string, parent: string, name: string): Promise<string[]> {
    const prefix = `${name}.`;
    const real = await realpath(parent).catch(() => null);
    const version = real !== null && isInside(root, real) ? await this.#directories.read(real, this.#expected(root)).catch(() => null) : null;
    return (version?.entries ?? [])
      .map((d) => d.name)
      .filter((n) => n.startsWith(prefix) && n.length > prefix.length && (this.#dotfiles || !isHiddenSegment(n)))
      .sort();
  }

  /**
   * Real path and stats of `path` when it resolves inside the root; null when a symlink leads
   * out. Throws the filesystem error when it does not exist or cannot be read.
   */
  async #inside(root: string, path: string): Promise<{ path: string; stats: Stats } | null> {
    if (this.#owner !== null && !(await symlinksOwnerMatch(root, path))) return null;
    const real = await realpath(path);
    if (!isInside(root, real)) return null;
    return { path: real, stats: await stat(real) };
  }
}

function fileResolution(root: string, path: string, name: string, stats: Stats, owner: number | null): Resolution {
  return { kind: 'file', path, root, name, dev: stats.dev, ino: stats.ino, ...(owner === null ? {} : { owner }) };
}

/**
 * SymLinksIfOwnerMatch: every symlink met on the way from `root` down to `path` has the same
 * owner as what it points to. Missing components throw (ENOENT), as realpath would.
 */
async function symlinksOwnerMatch(root: string, path: string): Promise<boolean> {
  if (path === root) return true;
  let current = root;
  for (const part of relative(root, path).split(sep)) {
    current = join(current, part);
    const link = await lstat(current);
    if (link.isSymbolicLink() && (await stat(current)).uid !== link.uid) return false;
  }
  return true;
}

function isMissingError(error: unknown): boolean {
  return fileErrorKind(error) === 'missing';
}

function isPermissionError(error: unknown): boolean {
  return fileErrorKind(error) === 'forbidden';
}
