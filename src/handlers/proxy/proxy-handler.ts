/**
 * The proxy handler: a request routed to an upstream goes out on this worker's keep-alive pool
 * for it (undici), streams both ways with backpressure, and comes back through the respond layer,
 * which paces the body exactly as it paces files. Failures: refused or reset before the headers
 * -> 502, no headers in time -> 504, death mid-body -> the client connection is closed (never a
 * short 200), client gone -> upstream request aborted.
 */
import { Readable } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import type { ProxyPolicy, UpstreamPlan } from '../../config/plan.js';
import { upstreamOrigin } from '../../config/proxy-spec.js';
import { authority, bracketHost } from '../../http/authority.js';
import type { ErrorCode } from '../../http/error-catalog.js';
import type { Exchange } from '../../respond/exchange.js';
import type { WireHeader } from '../../respond/wire.js';
import type { PublicOrigin } from '../../router/monster-path.js';
import { clientResponseHeaders, upstreamRequestHeaders } from './forward-headers.js';
import { UpstreamBody } from './upstream-body.js';
import type { UpstreamStates } from './upstream-states.js';
import type { Translation } from './url-translation.js';

/** An idle upstream body (a stalled origin mid-response) is given up after this long. */
const BODY_TIMEOUT_MS = 300_000;
/** Keep-alive connections to an upstream are closed after this long unused. */
const KEEP_ALIVE_MS = 4_000;
/** Request body bytes buffered towards the upstream before the client's socket is paused. */
const UPLOAD_HIGH_WATER = 256 * 1024;
/** Upload bytes held for an upstream that reads slower than the client sends, once pausing is no longer possible. */
const UPLOAD_LIMIT = 16 * 1024 * 1024;
const PLAIN_HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** What the proxy needs to know of the client, from the server that received it. */
export interface ProxyClient {
  /** The peer address as text. */
  readonly peer: string;
  /** The peer may forward for others (--trust-proxy). */
  readonly trusted: boolean;
  /** The scheme of the listener (ssl: https). */
  readonly scheme: 'http' | 'https';
}

/** A request routed to an upstream (the router's proxy route). */
export interface ProxyRoute {
  readonly upstream: number;
  readonly mount: string;
  readonly path: string;
}

export interface ProxyHandlerOptions {
  readonly upstreams: readonly UpstreamPlan[];
  readonly policy: ProxyPolicy;
  readonly states: UpstreamStates;
  /** This server sends CORS headers itself (--cors): the upstream's are dropped. */
  readonly cors: boolean;
}

/** What requests to one upstream share, worked out once. */
interface Endpoint {
  readonly upstream: UpstreamPlan;
  /** The upstream's own Host value (as Twisted's ReverseProxyResource sends it). */
  readonly hostHeader: string;
  /** Its host as URLs write it (IPv6 in brackets). */
  readonly urlHost: string;
  readonly origin: string;
}

export class ProxyHandler {
  readonly #endpoints: readonly Endpoint[];
  readonly #policy: ProxyPolicy;
  readonly #states: UpstreamStates;
  readonly #ownCors: boolean;
  readonly #pools = new Map<number, Pool>();

  constructor(options: ProxyHandlerOptions) {
    this.#endpoints = options.upstreams.map((upstream) => {
      return { upstream, hostHeader: authority(upstream.scheme, upstream.host, upstream.port), urlHost: bracketHost(upstream.host), origin: upstreamOrigin(upstream) };
    });
    this.#policy = options.policy;
    this.#states = options.states;
    this.#ownCors = options.cors;
  }

  /** Answers `exchange` from its upstream; called inside the uWS handler. */
  handle(exchange: Exchange, route: ProxyRoute, origin: PublicOrigin | null, client: ProxyClient): void {
    const endpoint = this.#endpoints[route.upstream]!;
    const upstream = endpoint.upstream;
    if (this.#states.isDown(upstream.id)) return exchange.sendError('upstream-down', { headers: [['Retry-After', '1']] });
    const lines: string[] = [];
    exchange.request.forEach((name, value) => lines.push(name, value));
    const scheme = origin?.scheme ?? client.scheme;
    // A Host that is not a plain host[:port] is not repeated into URLs or X-Forwarded-Host.
    const publicAuthority = origin?.authority ?? (PLAIN_HOST.test(exchange.hostHeader) ? exchange.hostHeader : null);
    const headers = upstreamRequestHeaders({
      headers: lines,
      upstreamHost: endpoint.hostHeader,
      peer: client.peer,
      trusted: client.trusted,
      scheme,
      host: publicAuthority ?? '',
    });
    const query = exchange.query;
    const path = `${upstream.path}${route.path}` || '/';
    const translation: Translation = {
      upstreamScheme: upstream.scheme,
      upstreamHost: endpoint.urlHost,
      upstreamPort: upstream.port,
      upstreamPath: upstream.path,
      publicScheme: scheme,
      publicAuthority,
      mount: route.mount,
    };
    const body = hasRequestBody(exchange.method, lines) ? this.#uploadStream(exchange) : null;
    exchange.goAsync();
    const options: Dispatcher.DispatchOptions = {
      path: query === '' ? path : `${path}?${query}`,
      method: exchange.method,
      headers,
      body,
      headersTimeout: this.#policy.timeoutMs,
      bodyTimeout: BODY_TIMEOUT_MS,
    };
    const pool = this.#pool(endpoint);
    const send = (retry: (() => void) | null): void => {
      if (exchange.ended) return;
      const call = new UpstreamCall(exchange, translation, this.#ownCors, (code) => this.#failed(upstream, code), retry);
      exchange.onAbort = () => call.abort();
      pool.dispatch(options, call);
    };
    // A keep-alive connection the upstream closed just as it was reused fails before any answer:
    // a request without a body is safe to send once more, on another connection.
    send(body === null && (exchange.method === 'GET' || exchange.method === 'HEAD') ? () => send(null) : null);
  }

  #pool(endpoint: Endpoint): Pool {
    let pool = this.#pools.get(endpoint.upstream.id);
    if (pool === undefined) {
      pool = new Pool(endpoint.origin, {
        keepAliveTimeout: KEEP_ALIVE_MS,
        headersTimeout: this.#policy.timeoutMs,
        bodyTimeout: BODY_TIMEOUT_MS,
        connect: { rejectUnauthorized: !this.#policy.insecure, timeout: this.#policy.timeoutMs },
      });
      this.#pools.set(endpoint.upstream.id, pool);
    }
    return pool;
  }

  /** A refused connection: the upstream is down until the coordinator's next check says otherwise. */
  #failed(upstream: UpstreamPlan, code: string | undefined): void {
    if (code === 'ECONNREFUSED' && this.#policy.checkIntervalMs > 0) this.#states.set(upstream.id, true);
  }

  /**
   * The request body as a stream for undici, the client's socket paused while it is behind.
   * Once the response has started the socket is not paused any more (see Exchange.pauseBody):
   * an upstream that still reads then may fall behind by UPLOAD_LIMIT bytes before the upload is
   * cut. Chunks that come after undici stopped reading (it answered first) are dropped.
   */
  #uploadStream(exchange: Exchange): Readable {
    let paused = false;
    const stream = new Readable({
      highWaterMark: UPLOAD_HIGH_WATER,
      read() {
        if (paused) paused = exchange.pauseBody(false);
      },
    });
    exchange.readBody((chunk, isLast) => {
      if (stream.destroyed) return;
      // Asked every time: the respond layer may have resumed the socket itself (the answer started).
      if (!stream.push(chunk) && !isLast) {
        paused = exchange.pauseBody(true);
        if (!paused && stream.readableLength > UPLOAD_LIMIT) stream.destroy(new Error('the upstream fell behind the upload'));
      }
      if (isLast) stream.push(null);
    });
    return stream;
  }
}

/** A response head received and not yet written (it goes out with the first body bytes). */
interface PendingHead {
  readonly status: number;
  readonly headers: readonly WireHeader[];
  /** Content-Length, or -1 when the upstream did not say. */
  readonly length: number;
}

/**
 * One request to an upstream and its response on the way back: undici's dispatch handler. The
 * head is written together with the first body bytes (or the end), in one cork: undici delivers
 * a small response's head and body from one socket read, and writing them apart would cost the
 * client socket two sends.
 */
class UpstreamCall implements Dispatcher.DispatchHandler {
  readonly #exchange: Exchange;
  readonly #translation: Translation;
  readonly #ownCors: boolean;
  readonly #onFailure: (code: string | undefined) => void;
  readonly #retry: (() => void) | null;
  #controller: Dispatcher.DispatchController | null = null;
  #head: PendingHead | null = null;
  #body: UpstreamBody | null = null;
  #answered = false;
  #done = false;
  readonly #flushHead = (): void => {
    if (this.#head !== null) this.#exchange.resume(() => this.#writeHead(null, false));
  };

  constructor(exchange: Exchange, translation: Translation, ownCors: boolean, onFailure: (code: string | undefined) => void, retry: (() => void) | null) {
    this.#exchange = exchange;
    this.#translation = translation;
    this.#ownCors = ownCors;
    this.#onFailure = onFailure;
    this.#retry = retry;
  }

  /** The client went away, or the body is no longer wanted: stop the upstream request. */
  abort(): void {
    if (this.#done) return;
    this.#done = true;
    this.#controller?.abort(new Error('the client went away'));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#done) controller.abort(new Error('the client went away'));
  }

  onResponseStart(_controller: Dispatcher.DispatchController, status: number, headers: Record<string, string | string[] | undefined>): void {
    if (status < 200) return;
    if (this.#exchange.ended) {
      this.abort();
      return;
    }
    const out = clientResponseHeaders(headers, this.#translation, this.#ownCors);
    this.#answered = true;
    const declared = headers['content-length'];
    this.#head = { status, headers: out, length: typeof declared === 'string' && /^\d+$/.test(declared) ? Number(declared) : -1 };
    // Body bytes of the same socket read arrive before this runs; a head alone (a live response
    // whose first chunk is yet to come) goes out then.
    queueMicrotask(this.#flushHead);
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#head !== null) this.#exchange.resume(() => this.#writeHead(chunk, false));
    else this.#body?.push(chunk);
  }

  onResponseEnd(): void {
    this.#done = true;
    if (this.#head !== null) this.#exchange.resume(() => this.#writeHead(null, true));
    else this.#body?.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    const wasDone = this.#done;
    this.#done = true;
    if (this.#body !== null) {
      this.#body.fail(error);
      return;
    }
    const exchange = this.#exchange;
    if (wasDone || exchange.ended) return;
    const code = (error as NodeJS.ErrnoException).code;
    // A head came but nothing was written yet: still time for an honest 502.
    if (this.#head !== null) {
      this.#head = null;
      exchange.resume(() => exchange.sendError('upstream-failed', { detail: error.message }));
      return;
    }
    // Answered without a body (HEAD, 304): nothing left to say.
    if (this.#answered) return;
    if (this.#retry !== null && (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET')) return queueMicrotask(this.#retry);
    this.#onFailure(code);
    exchange.resume(() => exchange.sendError(errorCodeFor(code), { detail: error.message }));
  }

  /** Writes the pending head (inside a cork), with `first` body bytes and, when `ended`, the end. */
  #writeHead(first: Buffer | null, ended: boolean): void {
    const head = this.#head;
    if (head === null) {
      if (first !== null) this.#body?.push(first);
      return;
    }
    this.#head = null;
    const exchange = this.#exchange;
    const { status, headers, length } = head;
    if (exchange.head || status === 204 || status === 304) {
      if (exchange.head && length >= 0) exchange.sendHead(status, headers, length);
      else exchange.sendEmpty(status, headers);
      return;
    }
    const controller = this.#controller!;
    const body = new UpstreamBody(length, {
      pause: () => controller.pause(),
      resume: () => controller.resume(),
      abort: () => this.abort(),
    });
    this.#body = body;
    if (first !== null) body.push(first);
    if (ended) body.end();
    if (length >= 0) exchange.sendBody(status, headers, () => body);
    else exchange.sendStream(status, headers, body);
  }
}

function errorCodeFor(code: string | undefined): ErrorCode {
  switch (code) {
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'upstream-timeout';
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ECONNRESET':
      return 'upstream-unreachable';
    default:
      return 'upstream-failed';
  }
}

/** A request body follows when the client framed one (Content-Length above 0, or chunked). */
function hasRequestBody(method: string, lines: readonly string[]): boolean {
  if (method === 'GET' || method === 'HEAD') return false;
  for (let i = 0; i < lines.length; i += 2) {
    if ((lines[i] === 'content-length' && lines[i + 1]!.trim() !== '0') || lines[i] === 'transfer-encoding') return true;
  }
  return false;
}
