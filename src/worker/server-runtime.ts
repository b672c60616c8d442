/**
 * One listening server inside a worker: routes each request by method, answers static files
 * through its site, and counts exchanges in flight (for graceful shutdown).
 */
import type { HttpRequest, HttpResponse } from '../../native-bindings/uws.js';
import type { HttpPolicy, ServerPlan, ShapePlan, SitePlan } from '../config/plan.js';
import type { DirectoryCache } from '../files/directory-cache.js';
import { formatCombined } from '../http/access-log-line.js';
import type { BlockCache } from '../files/block-cache.js';
import { FileSource, MemorySource, SharedBlockSource, type BodySource } from '../files/body-source.js';
import { BufferPool } from '../files/buffer-pool.js';
import { cacheControlForGenerated } from '../http/cache-policy.js';
import { ALLOWED_METHODS, CORS_RESPONSE_HEADERS, preflightHeaders } from '../http/cors.js';
import type { OpenedFile } from '../files/file-cache.js';
import type { OpenFiles } from '../files/open-files.js';
import type { BodyStore } from '../files/body-store.js';
import { fileErrorKind } from '../files/file-errors.js';
import { planFileResponse, type FileResponsePlan } from '../http/file-response-plan.js';
import { formatAddress } from '../http/ip-text.js';
import { decodeRequestPath } from '../http/request-path.js';
import { statusLine } from '../http/status.js';
import { forwardedClient, isTrusted, mergeTrust, parseTrustEntry, trustsNobody, type TrustList } from '../http/trusted-proxies.js';
import { ClientIdQuota } from '../shaping/client-id-quota.js';
import { addressPrefix, keyFromAddress, keyFromHeader, type ClientKey } from '../shaping/client-key.js';
import { openNestedFlow, type ServerShaper, type TokenGate } from '../shaping/server-shaper.js';
import type { AccessLogBuffer } from './access-log-buffer.js';
import { Exchange, WHOLE_BODY_BYTES, type ExchangeHost } from './exchange.js';
import { discardAnswer, SiteRuntime, type SiteAnswer } from './site-runtime.js';
import { encodeHeaders, type WireHeader } from './wire.js';

const EMPTY_BODY = new Uint8Array(0);

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
  readonly log: (line: string) => void;
  /** This server's shaper in this worker, when the plan shapes it. */
  readonly shaper: ServerShaper | null;
  /** Its virtual hosts' own shapers (by vhost index), where the plan shapes them. */
  readonly vhostShapers: ReadonlyArray<ServerShaper | null>;
}

export class ServerRuntime implements ExchangeHost {
  readonly commonHeaders: readonly WireHeader[];
  readonly generatedCacheControl: string;
  readonly tracebacks: boolean;
  readonly shaped: boolean;
  readonly clientIdHeader: string | null;
  readonly readsForwardedFor: boolean;
  readonly routesByHost: boolean;
  readonly logsAccess: boolean;
  closing = false;
  /** Still running as root, before --run-as: requests get 503 (nothing is read as root). */
  holding = false;
  readonly #http: HttpPolicy;
  readonly #sitesByHost: ReadonlyMap<string, SiteRuntime>;
  readonly #accessLog: AccessLogBuffer | null;
  /** How clients are told apart (the server's shape settings, shared by its virtual hosts). */
  readonly #shape: ShapePlan | null;
  readonly #shaper: ServerShaper | null;
  readonly #trust: TrustList;
  readonly #clientIds: ClientIdQuota | null;
  readonly #site: SiteRuntime;
  readonly #pool: BufferPool;
  readonly #blocks: BlockCache;
  readonly #log: (line: string) => void;
  #active = 0;
  #lastEndedAt = Number.NEGATIVE_INFINITY;
  #onIdle: (() => void) | null = null;

  constructor(server: ServerPlan, http: HttpPolicy, options: ServerRuntimeOptions) {
    this.#http = http;
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
    this.#site = site(server.site, null);
    this.#sitesByHost = new Map(server.vhosts.map((vhost, i) => [vhost.hostname, site(vhost, vhost.shape ? (options.vhostShapers[i] ?? null) : null)]));
    this.routesByHost = this.#sitesByHost.size > 0;
    this.#accessLog = options.accessLog;
    this.logsAccess = this.#accessLog !== null;
    this.#pool = options.pool;
    this.#blocks = options.blocks;
    this.#log = options.log;
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
      this.#route(exchange);
    } catch (error) {
      exchange.fail(error);
    }
    exchange.leaveHandler();
  };

  openGate(exchange: Exchange): TokenGate | null {
    const shape = this.#shape;
    const vhostShaper = exchange.vhostShaper;
    const scopes = vhostShaper && this.#shaper ? [vhostShaper, this.#shaper] : vhostShaper ? [vhostShaper] : this.#shaper ? [this.#shaper] : [];
    if (shape === null || scopes.length === 0) return null;
    const key = this.#clientKey(exchange, shape);
    return openNestedFlow(scopes.map((shaper) => ({ shaper, key: key === null ? null : key(shaper.seed) })));
  }

  /**
   * Who the client of `exchange` is, as a key for a shaper with a given hash seed; null when
   * shaping by connection (a private bucket per response).
   */
  #clientKey(exchange: Exchange, shape: ShapePlan): ((seed: number) => ClientKey) | null {
    if (shape.by === 'connection') return null;
    const peer = new Uint8Array(exchange.remoteAddress());
    const trusted = this.readsForwardedFor && isTrusted(this.#trust, peer);
    const client = trusted ? forwardedClient(this.#trust, peer, exchange.forwardedFor) : peer;
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

  exchangeEnded(exchange: Exchange): void {
    this.#active--;
    this.#lastEndedAt = performance.now();
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

  #route(exchange: Exchange): void {
    switch (exchange.method) {
      case 'GET':
      case 'HEAD':
        return this.#serveStatic(exchange);
      case 'OPTIONS':
        return exchange.sendEmpty(204, [
          ['Allow', ALLOWED_METHODS],
          ...(this.#http.cors ? preflightHeaders(exchange.accessControlRequestHeaders) : []),
        ]);
      default:
        return exchange.sendError(405, `The ${exchange.method} method is not allowed here.`, [['Allow', ALLOWED_METHODS]]);
    }
  }

  #serveStatic(exchange: Exchange): void {
    const site = (this.routesByHost && this.#sitesByHost.get(exchange.host)) || this.#site;
    if (site.shaper !== null) {
      exchange.vhostShaper = site.shaper;
      exchange.shaped = true;
    }
    // Hot path: a small file checked against the disk within the last second, answered from
    // memory without leaving the handler. Its raw path was validated when it was cached.
    const cached = site.cache.fresh(exchange.url);
    const body = cached?.stored?.buffer;
    if (body) return this.#sendFile(exchange, { file: cached!, body, handle: null });
    const decoded = decodeRequestPath(exchange.url);
    if (!decoded.ok) return exchange.sendError(400, decoded.reason);
    exchange.goAsync();
    site.answer(exchange.url, decoded.segments, decoded.trailingSlash, exchange.query).then(
      (answer) => {
        if (exchange.ended) discardAnswer(answer);
        else exchange.resume(() => this.#sendAnswer(exchange, answer));
      },
      (error: unknown) => exchange.resume(() => this.#sendFailure(exchange, error)),
    );
  }

  #sendAnswer(exchange: Exchange, answer: SiteAnswer): void {
    switch (answer.kind) {
      case 'file':
        return this.#sendFile(exchange, answer.opened);
      case 'redirect':
        return exchange.sendError(301, 'Moved to the directory form of this path.', [['Location', answer.location]]);
      case 'listing':
        return exchange.sendSmall(
          200,
          [['Content-Type', 'text/html; charset=utf-8'], ['Cache-Control', this.generatedCacheControl]],
          answer.html,
        );
      case 'forbidden':
        return exchange.sendError(403, 'Access to this path is not permitted.');
      case 'listing-off':
        return exchange.sendError(403, 'Directory listings are turned off on this server.');
      case 'not-found':
        return exchange.sendError(404, 'No such file or directory.');
    }
  }

  #sendFile(exchange: Exchange, opened: OpenedFile): void {
    const { file, body } = opened;
    // Most requests carry no range or validator: their plan depends on the file alone, so it is
    // made and encoded once per file version.
    let plan: FileResponsePlan;
    let headers: readonly WireHeader[];
    if (exchange.plain) {
      file.plain ??= this.#encodedPlan(planFileResponse(exchange, file.facts, this.#http.noCache));
      ({ plan, headers } = file.plain);
    } else {
      plan = planFileResponse(exchange, file.facts, this.#http.noCache);
      headers = plan.headers;
    }
    if (plan.kind !== 'body' || exchange.head) opened.handle?.release();
    switch (plan.kind) {
      case 'body':
        if (exchange.head) return exchange.sendHead(plan.status, headers, plan.length);
        if (body !== null && plan.length <= WHOLE_BODY_BYTES) {
          const whole = plan.length === body.length;
          return exchange.sendWhole(plan.status, headers, whole ? body : body.subarray(plan.start, plan.start + plan.length));
        }
        return exchange.sendBody(plan.status, headers, this.#source(exchange, opened, plan.start, plan.length));
      case 'not-modified':
        return exchange.sendEmpty(304, headers);
      case 'error':
        return exchange.sendError(
          plan.status,
          plan.status === 416 ? 'The requested range lies outside the file.' : 'A precondition of the request failed.',
          headers,
        );
    }
  }

  #logExchange(log: AccessLogBuffer, exchange: Exchange): void {
    const query = exchange.query;
    log.append(
      formatCombined({
        remote: exchange.remote === null ? '-' : formatAddress(forwardedClient(this.#trust, new Uint8Array(exchange.remote), exchange.forwardedFor)),
        method: exchange.method,
        target: query === '' ? exchange.url : `${exchange.url}?${query}`,
        // Nothing was sent before the client went away: nginx's "client closed request".
        status: exchange.status === 0 ? 499 : exchange.status,
        bytes: exchange.bodyBytes,
        referer: exchange.referer,
        userAgent: exchange.userAgent,
        time: exchange.time,
      }),
    );
  }

  #encodedPlan(plan: FileResponsePlan): { plan: FileResponsePlan; headers: readonly WireHeader[] } {
    return { plan, headers: encodeHeaders(plan.headers) };
  }

  #source(exchange: Exchange, opened: OpenedFile, start: number, length: number): BodySource {
    const { body } = opened;
    if (body !== null) return new MemorySource(body.subarray(start, start + length));
    if (length === 0 || opened.handle === null) {
      opened.handle?.release();
      return new MemorySource(EMPTY_BODY);
    }
    // Paced bodies are slow by design, and load tests run many on the same files: they share
    // cached blocks instead of each holding its own read buffers.
    if (exchange.shaped) return new SharedBlockSource(opened.handle, opened.file, start, length, this.#blocks);
    return new FileSource(opened.handle, start, length, this.#pool);
  }

  /**
   * A file that vanished or turned unreadable between lookup and open is 404/403, the process out
   * of descriptors a 503 to retry, not a crash.
   */
  #sendFailure(exchange: Exchange, error: unknown): void {
    switch (fileErrorKind(error)) {
      case 'missing':
        return exchange.sendError(404, 'No such file or directory.');
      case 'forbidden':
        return exchange.sendError(403, 'Access to this path is not permitted.');
      case 'busy':
        this.reportError(error, exchange);
        return exchange.sendError(503, 'The server is out of file descriptors or memory for now; try again.', [['Retry-After', '1']]);
      case null:
        break;
    }
    this.reportError(error, exchange);
    exchange.sendError(500, 'The server could not read this file.', [], error instanceof Error ? error.stack : String(error));
  }
}
