/**
 * One listening server inside a worker: the pipeline of its requests (router, then the static
 * or proxy handler, with the respond layer below both), who its clients are for shaping, and
 * the exchanges in flight (for graceful shutdown and the access log).
 */
import type { HttpRequest, HttpResponse } from '../../native-bindings/uws.js';
import type { HttpPolicy, ServerPlan, ShapePlan, SitePlan } from '../config/plan.js';
import type { BlockCache } from '../files/block-cache.js';
import type { BodyStore } from '../files/body-store.js';
import type { BufferPool } from '../files/buffer-pool.js';
import type { DirectoryCache } from '../files/directory-cache.js';
import type { OpenFiles } from '../files/open-files.js';
import { SiteRuntime } from '../handlers/static/site-runtime.js';
import { StaticHandler } from '../handlers/static/static-handler.js';
import type { ProxyHandler } from '../handlers/proxy/proxy-handler.js';
import { formatCombined, formatTimed } from '../http/access-log-line.js';
import type { ResponseCounters } from '../stats/response-stats.js';
import { cacheControlForGenerated } from '../http/cache-policy.js';
import { CORS_RESPONSE_HEADERS } from '../http/cors.js';
import { formatAddress } from '../http/ip-text.js';
import { statusLine } from '../http/status.js';
import { forwardedClient, isTrusted, mergeTrust, parseTrustEntry, trustsNobody, type TrustList } from '../http/trusted-proxies.js';
import { Exchange, type ExchangeHost } from '../respond/exchange.js';
import { encodeHeaders, type WireHeader } from '../respond/wire.js';
import { RequestRouter } from '../router/request-router.js';
import { ClientIdQuota } from '../shaping/client-id-quota.js';
import { addressPrefix, keyFromAddress, keyFromHeader, type ClientKey } from '../shaping/client-key.js';
import { openNestedFlow, type ServerShaper, type TokenGate } from '../shaping/server-shaper.js';
import type { AccessLogBuffer } from './access-log-buffer.js';
import { FaultMatcher } from './fault-matcher.js';
import { PlaylistObserver } from './playlist-observer.js';
import type { CachedFile } from '../files/file-cache.js';
import { collapseSlashes, type PlaylistFacts } from '../stats/playlist-facts.js';
import type { FaultRule } from '../control/fault-rules.js';

export interface ServerRuntimeOptions {
  /** Where access log lines go, or null when there is no access log. */
  readonly accessLog: AccessLogBuffer | null;
  readonly pool: BufferPool;
  /** Read blocks shared by paced bodies (one cache per worker). */
  readonly blocks: BlockCache;
  /** Descriptors shared by responses reading one file at the same time (one table per worker). */
  readonly files: OpenFiles;
  /** Small files' bodies (one store per worker, one byte budget per process). */
  readonly bodies: BodyStore;
  /** Directory contents and the limiter of directory I/O (one per worker). */
  readonly directories: DirectoryCache;
  /** The proxy handler of this worker (shared by its servers), or null when nothing is proxied. */
  readonly proxy: ProxyHandler | null;
  readonly log: (line: string) => void;
  /** This server's shaper in this worker, when the plan shapes it. */
  readonly shaper: ServerShaper | null;
  /** Its sites' response counters (its own, then its virtual hosts', as the router numbers them). */
  readonly responses: readonly ResponseCounters[];
  /** Its virtual hosts' own shapers (by vhost index), where the plan shapes them. */
  readonly vhostShapers: ReadonlyArray<ServerShaper | null>;
  /** Access log lines end with the response time, the rate and the limit (--response-timing). */
  readonly responseTiming: boolean;
  /** A control plane reads what workers observe (clients' paths, playlists): else nothing is kept. */
  readonly observe: boolean;
  /** What a served playlist says about renditions, for the coordinator (once per version). */
  readonly playlistServed: (server: number, facts: PlaylistFacts) => void;
}

/** Clients whose latest path is reported per publish at most (the rest wait for the next). */
const MAX_REPORTED_PATHS = 20_000;

export class ServerRuntime implements ExchangeHost {
  readonly commonHeaders: readonly WireHeader[];
  readonly generatedCacheControl: string;
  readonly tracebacks: boolean;
  readonly shaped: boolean;
  readonly clientIdHeader: string | null;
  readonly readsForwardedFor: boolean;
  readonly readsHost: boolean;
  readonly logsAccess: boolean;
  closing = false;
  /** The server's id in the plan. */
  readonly id: number;
  /** Still running as root, before --run-as: requests get 503 (nothing is read as root). */
  holding = false;
  readonly #router: RequestRouter;
  /** The server's own site, then its virtual hosts, in plan order (the router's site numbers). */
  readonly #sites: readonly SiteRuntime[];
  readonly #static: StaticHandler;
  readonly #proxy: ProxyHandler | null;
  readonly #accessLog: AccessLogBuffer | null;
  readonly #responses: readonly ResponseCounters[];
  /** How clients are told apart (the server's shape settings, shared by its virtual hosts). */
  readonly #shape: ShapePlan | null;
  readonly #shaper: ServerShaper | null;
  readonly #trust: TrustList;
  readonly #clientIds: ClientIdQuota | null;
  readonly #log: (line: string) => void;
  readonly #faults: FaultMatcher;
  readonly #playlists: PlaylistObserver;
  readonly #observe: boolean;
  readonly #responseTiming: boolean;
  /** Each client's latest path since the last report and when it began (epoch ms), by bucket key (`high:low` in the server's shaper). */
  #clientPaths = new Map<string, readonly [string, number]>();
  readonly #scheme: 'http' | 'https';
  #active = 0;
  #lastEndedAt = Number.NEGATIVE_INFINITY;
  #onIdle: (() => void) | null = null;

  constructor(server: ServerPlan, http: HttpPolicy, options: ServerRuntimeOptions) {
    this.id = server.id;
    this.commonHeaders = encodeHeaders(http.cors ? CORS_RESPONSE_HEADERS : []);
    this.generatedCacheControl = cacheControlForGenerated(http.noCache);
    this.tracebacks = http.tracebacks;
    this.#shape = server.shape ?? server.vhosts.find((vhost) => vhost.shape)?.shape ?? null;
    this.#shaper = server.shape ? options.shaper : null;
    this.shaped = this.#shaper !== null;
    this.#trust = mergeTrust(server.trustProxy.map((entry) => parseTrustEntry(entry)!));
    this.readsForwardedFor = !trustsNobody(this.#trust);
    this.clientIdHeader = this.#shape?.clientIdHeader ?? null;
    this.#clientIds = this.#shape?.clientIdHeader ? new ClientIdQuota(this.#shape.clientIdLimit) : null;
    const site = (plan: SitePlan, shaper: ServerShaper | null): SiteRuntime =>
      new SiteRuntime(plan, http, options.files, options.bodies, options.directories, shaper);
    this.#sites = [site(server.site, null), ...server.vhosts.map((vhost, i) => site(vhost, vhost.shape ? (options.vhostShapers[i] ?? null) : null))];
    this.#router = new RequestRouter(server);
    this.readsHost = this.#router.readsHost;
    this.#static = new StaticHandler({
      http,
      pool: options.pool,
      blocks: options.blocks,
      generatedCacheControl: this.generatedCacheControl,
      reportError: (error, exchange) => this.reportError(error, exchange),
      ...(options.observe ? { servedWhole: (exchange: Exchange, file: CachedFile, body: Buffer) => this.#playlists.served(exchange.url, file, body) } : {}),
    });
    this.#playlists = new PlaylistObserver((facts) => options.playlistServed(server.id, facts));
    this.#proxy = options.proxy;
    this.#scheme = server.listen.kind === 'ssl' ? 'https' : 'http';
    this.#accessLog = options.accessLog;
    this.#responses = options.responses;
    this.logsAccess = this.#accessLog !== null;
    this.#log = options.log;
    this.#responseTiming = options.responseTiming;
    this.#observe = options.observe;
    this.#faults = new FaultMatcher(this.#shape?.ipv6PrefixBits ?? 128);
  }

  /** Exchanges not yet ended. */
  get active(): number {
    return this.#active;
  }

  /** When the latest exchange ended (`performance.now()` clock). */
  get lastEndedAt(): number {
    return this.#lastEndedAt;
  }

  /** Calls `callback` once no exchange is in flight (now, or when the last one ends). */
  whenIdle(callback: () => void): void {
    if (this.#active === 0) callback();
    else this.#onIdle = callback;
  }

  /** The uWS request handler. Never throws: a throw inside uWS terminates the process. */
  readonly handle = (res: HttpResponse, req: HttpRequest): void => {
    if (this.holding) {
      res.writeStatus(statusLine(503)).writeHeader('Retry-After', '1').writeHeader('Connection', 'close').end();
      return;
    }
    let exchange: Exchange;
    try {
      exchange = new Exchange(res, req, this);
    } catch (error) {
      this.reportError(error);
      res.writeStatus(statusLine(500)).end();
      return;
    }
    this.#active++;
    try {
      this.#dispatch(exchange);
    } catch (error) {
      exchange.fail(error);
    }
    exchange.leaveHandler();
  };

  #dispatch(exchange: Exchange): void {
    if (!this.#faults.empty) {
      const faults = this.#faults.plan(faultPath(exchange.url), () => this.#faultClientKey(exchange));
      if (faults !== null) {
        exchange.injectFaults(faults);
        if (faults.status !== null) return exchange.sendError('injected-fault', { status: faults.status });
      }
    }
    const { route, origin } = this.#router.route(exchange.host, exchange.url);
    if (route.kind === 'error') return exchange.sendError(route.code);
    const site = this.#sites[route.site]!;
    exchange.site = route.site;
    // Decided here for every handler: bodies of a virtual host with limits of its own are paced
    // by them too (inside the server's).
    exchange.vhostShaper = site.shaper;
    if (route.kind === 'static') return this.#static.handle(exchange, site, route.path, origin);
    const peer = new Uint8Array(exchange.remoteAddress());
    this.#proxy!.handle(exchange, route, origin, {
      // A unix-socket peer has no address to forward (RFC 7239's "unknown").
      peer: peer.length === 0 ? 'unknown' : formatAddress(peer),
      trusted: this.readsForwardedFor && isTrusted(this.#trust, peer),
      scheme: this.#scheme,
    });
  }

  openGate(exchange: Exchange): TokenGate | null {
    const shape = this.#shape;
    const vhostShaper = exchange.vhostShaper;
    const scopes = vhostShaper && this.#shaper ? [vhostShaper, this.#shaper] : vhostShaper ? [vhostShaper] : this.#shaper ? [this.#shaper] : [];
    if (shape === null || scopes.length === 0) return null;
    const key = this.#clientKey(exchange, shape);
    const flowScopes = scopes.map((shaper) => ({ shaper, key: key === null ? null : key(shaper.seed) }));
    // The server's own scope is the last: its key is the one the control plane lists clients by.
    const own = this.#shaper === null ? null : flowScopes.at(-1)!.key;
    if (own !== null && this.#observe && this.#clientPaths.size < MAX_REPORTED_PATHS) {
      this.#clientPaths.set(`${own.high}:${own.low}`, [exchange.url, performance.timeOrigin + performance.now()]);
    }
    return openNestedFlow(flowScopes);
  }

  /**
   * Who the client of `exchange` is, as a key for a shaper with a given hash seed; null when
   * shaping by connection (a private bucket per response).
   */
  #clientKey(exchange: Exchange, shape: ShapePlan): ((seed: number) => ClientKey) | null {
    if (shape.by === 'connection') return null;
    const { trusted, client } = this.#client(exchange);
    const id = exchange.clientId;
    const quota = this.#clientIds;
    // Only a trusted peer picks the bucket by header, and each client (address, or IPv6 prefix
    // when clients are grouped so) only so many.
    if (trusted && id !== '' && quota !== null) {
      const address = formatAddress(addressPrefix(client, shape.ipv6PrefixBits));
      if (quota.acquire(address, id)) {
        exchange.onEnd = () => quota.release(address, id);
        return (seed) => keyFromHeader(id, seed);
      }
    }
    return (seed) => keyFromAddress(client, shape.ipv6PrefixBits, seed);
  }

  /** The client's address: the peer's, or the one a trusted peer forwards for. */
  #client(exchange: Exchange): { trusted: boolean; client: Uint8Array } {
    const peer = new Uint8Array(exchange.remoteAddress());
    const trusted = this.readsForwardedFor && isTrusted(this.#trust, peer);
    return { trusted, client: trusted ? forwardedClient(this.#trust, peer, exchange.forwardedFor) : peer };
  }

  /** The client as fault rules name it (seed 0): a trusted peer's client id, else the address. */
  #faultClientKey(exchange: Exchange): ClientKey {
    const { trusted, client } = this.#client(exchange);
    if (trusted && exchange.clientId !== '' && this.#clientIds !== null) return keyFromHeader(exchange.clientId);
    return keyFromAddress(client, this.#shape?.ipv6PrefixBits ?? 128);
  }

  /** The latest path of each client that started a body since the last call, by bucket key. */
  takeClientPaths(): Array<readonly [string, string, number]> {
    if (this.#clientPaths.size === 0) return [];
    const paths = [...this.#clientPaths].map(([key, [path, at]]) => [key, path, at] as const);
    this.#clientPaths = new Map();
    return paths;
  }

  /** Replaces this server's fault rules (the control plane sends them whole). */
  setFaults(rules: readonly FaultRule[]): void {
    this.#faults.set(rules);
  }

  exchangeEnded(exchange: Exchange): void {
    this.#active--;
    this.#lastEndedAt = performance.now();
    this.#responses[exchange.site]!.ended(exchange.status, exchange.bodyBytes, (this.#lastEndedAt - exchange.startedAt) / 1000);
    if (this.#accessLog !== null) this.#logExchange(this.#accessLog, exchange);
    if (this.#active === 0 && this.#onIdle) {
      const callback = this.#onIdle;
      this.#onIdle = null;
      callback();
    }
  }

  reportError(error: unknown, exchange?: Exchange): void {
    const where = exchange ? ` (${exchange.method} ${exchange.url})` : '';
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    this.#log(`request error${where}: ${text}`);
  }

  #logExchange(log: AccessLogBuffer, exchange: Exchange): void {
    const query = exchange.query;
    const entry = {
      remote: exchange.remote === null ? '-' : formatAddress(forwardedClient(this.#trust, new Uint8Array(exchange.remote), exchange.forwardedFor)),
      method: exchange.method,
      target: query === '' ? exchange.url : `${exchange.url}?${query}`,
      // Nothing was sent before the client went away: nginx's "client closed request".
      status: exchange.status === 0 ? 499 : exchange.status,
      bytes: exchange.bodyBytes,
      referer: exchange.referer,
      userAgent: exchange.userAgent,
      time: exchange.time,
    };
    log.append(this.#responseTiming ? formatTimed(entry, { seconds: (this.#lastEndedAt - exchange.startedAt) / 1000, limit: exchange.limit }) : formatCombined(entry));
  }
}

/** The path fault rules see: as the router finds the file (empty segments skipped, %-escapes decoded). */
function faultPath(url: string): string {
  const collapsed = collapseSlashes(url);
  try {
    return decodeURIComponent(collapsed);
  } catch {
    return collapsed;
  }
}
