/**
 * The first stage of every request, as a pure table: vhost monster path -> Host -> server or
 * virtual host -> proxy leaves -> the site's handler (static files, aliases and user directories
 * are the static handler's business). No uWS: it maps a host name and a raw path to a route.
 */
import type { ServerPlan, SiteProxyPlan } from '../config/plan.js';
import type { ErrorCode } from '../http/error-catalog.js';
import { parseMonsterPath, type PublicOrigin } from './monster-path.js';

export type Route =
  /** Files of site `site` (0: the server's own, i + 1: its virtual host i), at raw path `path`. */
  | { readonly kind: 'static'; readonly site: number; readonly path: string }
  /**
   * To upstream `upstream`: `path` is what follows the leaf `mount` ('' or `/...`, raw, with no
   * dot segments); `mount` is '' when the whole site is proxied.
   */
  | { readonly kind: 'proxy'; readonly site: number; readonly upstream: number; readonly mount: string; readonly path: string }
  | { readonly kind: 'error'; readonly code: ErrorCode };

export interface Routed {
  readonly route: Route;
  /** The scheme and authority the client used, when a vhost monster path told them; else null. */
  readonly origin: PublicOrigin | null;
}

interface SiteTable {
  /** Longest mount first, so `/a/b` wins over `/a`; a whole-site proxy (mount '') last. */
  readonly proxies: readonly SiteProxyPlan[];
}

/** What the router needs of a server: its sites' proxies, its virtual host names, its monster path. */
export type RoutedServer = Pick<ServerPlan, 'site' | 'vhosts' | 'monster'>;

export class RequestRouter {
  readonly #sites: readonly SiteTable[];
  readonly #byHost: ReadonlyMap<string, number>;
  readonly #monster: string | null;
  /** Some route depends on the Host header. */
  readonly readsHost: boolean;

  constructor(server: RoutedServer) {
    const table = (proxies: readonly SiteProxyPlan[]): SiteTable => ({
      proxies: [...proxies].sort((a, b) => b.mount.length - a.mount.length),
    });
    this.#sites = [table(server.site.proxies), ...server.vhosts.map((vhost) => table(vhost.proxies))];
    this.#byHost = new Map(server.vhosts.map((vhost, i) => [vhost.hostname, i + 1]));
    this.#monster = server.monster;
    this.readsHost = this.#byHost.size > 0 || this.#sites.some((site) => site.proxies.length > 0);
  }

  /** Routes a request for raw path `url` (no query) with Host name `host` ('' when not read). */
  route(host: string, url: string): Routed {
    let origin: PublicOrigin | null = null;
    let path = url;
    if (this.#monster !== null && (url === this.#monster || url.startsWith(`${this.#monster}/`))) {
      const parsed = parseMonsterPath(url.slice(this.#monster.length));
      if (parsed === null) return { route: { kind: 'error', code: 'bad-monster-host' }, origin: null };
      origin = parsed.origin;
      path = parsed.path;
    }
    // Behind a monster path the virtual host is the one the client asked the front proxy for.
    const name = origin === null ? host : origin.hostname;
    const site = this.#byHost.get(name) ?? 0;
    for (const proxy of this.#sites[site]!.proxies) {
      if (proxy.mount !== '' && path !== proxy.mount && !path.startsWith(`${proxy.mount}/`)) continue;
      const rest = path.slice(proxy.mount.length);
      if (!rest.startsWith('/') && rest !== '') return { route: { kind: 'error', code: 'bad-path' }, origin };
      if (escapesPrefix(rest)) return { route: { kind: 'error', code: 'bad-proxy-path' }, origin };
      return { route: { kind: 'proxy', site, upstream: proxy.upstream, mount: proxy.mount, path: rest }, origin };
    }
    return { route: { kind: 'static', site, path }, origin };
  }
}

/** `%2F`, `%5C`, `%00` or a raw backslash: upstreams differ in what they make of them. */
const AMBIGUOUS = /%2f|%5c|%00|\\/i;
const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;

/**
 * Paths an upstream could resolve outside the proxied prefix are refused rather than forwarded:
 * `.` and `..` segments (plain, percent-encoded, or with `;params` as Tomcat reads them), and
 * encoded slashes or backslashes (which some servers decode before normalising).
 */
function escapesPrefix(path: string): boolean {
  if (!path.includes('.') && !path.includes('%') && !path.includes('\\')) return false;
  if (AMBIGUOUS.test(path)) return true;
  return path.split('/').some((segment) => DOT_SEGMENT.test(segment.split(';')[0]!));
}
