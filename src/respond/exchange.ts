/**
 * One request/response pair over uWS, and the response discipline in one place: the request is
 * readable only while the uWS handler runs (handlers copy what they need through `request`);
 * `onAborted` is attached before anything goes asynchronous; deferred writes are corked; there is
 * exactly one way to end (idempotent), whatever happens. Pacing is decided here, once, for every
 * body of every handler: a handler never asks whether the server is shaped.
 */
import type { HttpRequest, HttpResponse } from '../../native-bindings/uws.js';
import { MemorySource, type BodySource } from '../files/body-source.js';
import { ERROR_CATALOG, type ErrorCode } from '../http/error-catalog.js';
import { errorPage } from '../http/error-page.js';
import { hostName } from '../http/host-header.js';
import type { ServerShaper, TokenGate } from '../shaping/server-shaper.js';
import type { FaultPlan } from './response-faults.js';
import { BodySender, type SendOutcome, type StreamSource } from './body-sender.js';
import { CONNECTION_CLOSE, CONTENT_LENGTH, ERROR_CODE, REQUEST_HEADER, statusBytes, type WireHeader } from './wire.js';

/** What an exchange needs from the server it belongs to. */
export interface ExchangeHost {
  /** Headers added to every response (CORS). */
  readonly commonHeaders: readonly WireHeader[];
  /** Cache-Control of error responses and generated pages. */
  readonly generatedCacheControl: string;
  /** True when every body of the server goes through a token gate. */
  readonly shaped: boolean;
  readonly tracebacks: boolean;
  /** Request header (lower-case name) that identifies the client for shaping, if any. */
  readonly clientIdHeader: string | null;
  /** Some peers are trusted to forward for others: read X-Forwarded-For. */
  readonly readsForwardedFor: boolean;
  /** Routing needs the Host header (virtual hosts, proxying, vhost monster). */
  readonly readsHost: boolean;
  /** Requests are logged: keep what the access log needs. */
  readonly logsAccess: boolean;
  /** The server is draining: every response says `Connection: close`. */
  readonly closing: boolean;
  /** A token gate pacing this exchange's body, or null when the server is not shaped. */
  openGate(exchange: Exchange): TokenGate | null;
  /** Logs an error met while answering (I/O failure or bug). */
  reportError(error: unknown, exchange: Exchange): void;
  /** Called once per exchange when it ends, however it ends. */
  exchangeEnded(exchange: Exchange): void;
}

/** An error response: the catalog's sentence unless `message` says more; `detail` only with tracebacks. */
export interface ErrorOptions {
  readonly message?: string;
  /** Another status than the catalog's (an injected fault's). */
  readonly status?: number;
  readonly headers?: readonly WireHeader[];
  readonly detail?: string;
}

const CLOSE_TOKEN = /(?:^|,)\s*close\s*(?:,|$)/i;
const EMPTY_BODY = new Uint8Array(0);
/**
 * Bodies up to this size are handed to uWS in one end() call: if the socket cannot take them
 * at once uWS keeps the rest, which is bounded by this size. Larger ones stream with backpressure.
 */
export const WHOLE_BODY_BYTES = 64 * 1024;

type ExchangeState = 'sync' | 'async' | 'sending' | 'ended';

export class Exchange {
  readonly method: string;
  /** The raw request path, without the query. */
  readonly url: string;
  /** Value of the shaping client-id header ('' when absent or not configured). */
  readonly clientId: string = '';
  /** X-Forwarded-For ('' when absent or when no peer is trusted to send it). */
  readonly forwardedFor: string = '';
  /** Called once when the exchange ends (releases what choosing its bucket held). */
  onEnd: (() => void) | null = null;
  /** The site answering (the router's number: 0 the server's own host, i + 1 its virtual host i), for its counters. */
  site = 0;
  /** The answering virtual host's own shaper, when it has limits of its own. */
  vhostShaper: ServerShaper | null = null;
  /** Host name from the Host header, lower-case, without port ('' unless routing reads it). */
  readonly host: string = '';
  /** The Host header as sent ('' unless routing reads it). */
  readonly hostHeader: string = '';
  /** For the access log (empty unless logging): peer address, headers, arrival time. */
  readonly remote: ArrayBuffer | null = null;
  readonly referer: string = '';
  readonly userAgent: string = '';
  readonly time: number = 0;
  /** When the request arrived (performance.now()), for response times. */
  readonly startedAt = performance.now();
  /** Status sent (0 until headers are written). */
  status = 0;
  /** The connection was lost before the response completed. */
  aborted = false;
  /** Called when the client goes away before the response completed (a handler's own cleanup). */
  onAbort: (() => void) | null = null;
  readonly #res: HttpResponse;
  readonly #host: ExchangeHost;
  /** Valid only while the uWS handler runs; see leaveHandler(). */
  #req: HttpRequest | null;
  #query: string | undefined;
  /** The client sent `Connection: close`; uWS closes after the response, we say so. */
  readonly #closeRequested: boolean;
  #state: ExchangeState = 'sync';
  #sender: BodySender | null = null;
  #bodyBytes = 0;
  /** The request body's socket is paused (pauseBody). */
  #bodyPaused = false;
  /** Injected faults (control plane) for this response, or null. */
  #faults: FaultPlan | null = null;
  /** Injected time to first byte not yet waited. */
  #ttfbMs = 0;
  #holdTimer: NodeJS.Timeout | null = null;
  /** Frees what a held response had ready (its body source) if the client goes first. */
  #holdRelease: (() => void) | null = null;

  constructor(res: HttpResponse, req: HttpRequest, host: ExchangeHost) {
    this.#res = res;
    this.#host = host;
    this.#req = req;
    // Only what routing, pacing and logging use is copied here: each read crosses into native
    // code. Handlers copy their own facts through `request`.
    this.method = req.getCaseSensitiveMethod();
    this.url = req.getUrl();
    if (host.readsForwardedFor) {
      // Every line of each, not just the first (all getHeader returns): a proxy that appends its
      // own X-Forwarded-For line after the client's must be read after it.
      const forwarded: string[] = [];
      const ids: string[] = [];
      const idHeader = host.clientIdHeader;
      req.forEach((name, value) => {
        if (name === 'x-forwarded-for') forwarded.push(value);
        else if (name === idHeader) ids.push(value);
      });
      this.forwardedFor = forwarded.join(',');
      // Two ids cannot both be the client's: neither is believed.
      if (ids.length === 1) this.clientId = ids[0]!;
    }
    if (host.readsHost) {
      this.hostHeader = req.getHeader(REQUEST_HEADER.host);
      this.host = hostName(this.hostHeader);
    }
    if (host.logsAccess) {
      this.remote = res.getRemoteAddress();
      this.referer = req.getHeader(REQUEST_HEADER.referer);
      this.userAgent = req.getHeader(REQUEST_HEADER.userAgent);
      this.time = Date.now();
    }
    const connection = req.getHeader(REQUEST_HEADER.connection);
    this.#closeRequested = connection !== '' && connection !== 'keep-alive' && CLOSE_TOKEN.test(connection);
  }

  /** The uWS request, for a handler to copy the facts it needs; only inside the uWS handler. */
  get request(): HttpRequest {
    if (this.#req === null) throw new Error('the uWS request was read after its handler returned');
    return this.#req;
  }

  /** The query string without '?', '' when none. */
  get query(): string {
    this.#query ??= this.#req?.getQuery() ?? '';
    return this.#query;
  }

  /** The peer address as uWS reports it (4 or 16 bytes); valid until the exchange ends. */
  remoteAddress(): ArrayBuffer {
    return this.#res.getRemoteAddress();
  }

  /** The uWS handler returned: `req` is gone (uWS reuses it). */
  leaveHandler(): void {
    this.#req = null;
  }

  get head(): boolean {
    return this.method === 'HEAD';
  }

  /** True once the response is complete or the connection is gone. */
  get ended(): boolean {
    return this.#state === 'ended';
  }

  /** Body bytes handed to the socket. */
  get bodyBytes(): number {
    return this.#sender?.sent ?? this.#bodyBytes;
  }

  /** The rate limit in force when the body ended (0: none or not paced). */
  get limit(): number {
    return this.#sender?.limit ?? 0;
  }

  /** Body bytes will be paced: the server or the answering virtual host is shaped. */
  get #paced(): boolean {
    return this.#host.shaped || this.vhostShaper !== null;
  }

  /** Faults to apply to this response: time to first byte, a stall or a cut of the body. */
  injectFaults(faults: FaultPlan): void {
    this.#faults = faults;
    this.#ttfbMs = faults.ttfbMs;
  }

  /** Must be called before the handler returns without having ended the response. */
  goAsync(): void {
    if (this.#state !== 'sync') return;
    void this.query; // capture while `req` is alive
    this.#state = 'async';
    this.#res.onAborted(() => this.#abandon());
  }

  /**
   * Streams the request body to `onChunk` (each chunk a copy: uWS reuses its buffer). Only inside
   * the uWS handler; the exchange goes asynchronous.
   */
  readBody(onChunk: (chunk: Buffer, isLast: boolean) => void): void {
    this.goAsync();
    this.#res.onData((data, isLast) => {
      if (this.#state !== 'ended') onChunk(Buffer.from(data.slice(0)), isLast);
    });
  }

  /**
   * Stops (or resumes) reading the request body from the socket: upload backpressure. Pausing is
   * refused (false) once the response has started: nothing would resume a socket left paused
   * when the response completes, and the connection would hang.
   */
  pauseBody(paused: boolean): boolean {
    if (this.#state === 'ended' || this.aborted) return false;
    if (paused) {
      if (this.status !== 0 || this.#bodyPaused) return this.#bodyPaused;
      this.#bodyPaused = true;
      this.#res.pause();
    } else if (this.#bodyPaused) {
      this.#bodyPaused = false;
      this.#res.resume();
    }
    return this.#bodyPaused;
  }

  /** Runs `write` corked, unless the exchange already ended (then it is skipped). */
  resume(write: () => void): void {
    // `aborted` is set before the handler's abort callbacks run, which may call back in here.
    if (this.#state === 'ended' || this.aborted) return;
    this.#res.cork(() => this.#guard(write));
  }

  /**
   * Sends headers and a body of known length (`Content-Length`). `open` makes the source; it is
   * told whether the body will be paced (slow readers can share read blocks).
   */
  sendBody(status: number, headers: readonly WireHeader[], open: (paced: boolean) => BodySource): void {
    const source = open(this.#paced);
    if (this.#defer(() => this.#sendSource(status, headers, source), () => source.release())) return;
    this.#sendSource(status, headers, source);
  }

  #sendSource(status: number, headers: readonly WireHeader[], source: BodySource): void {
    this.#writeHead(status, headers);
    if (source.length === 0) {
      // Nothing to pace or stream: a token gate would wait forever for a first byte.
      source.release();
      this.#res.end(EMPTY_BODY);
      this.#finish();
      return;
    }
    this.#startSender(new BodySender(this.#res, source, source.length, this.#host.openGate(this), this.#sentCallback, this.#faults));
  }

  /** Sends headers and a body of unknown length, chunked, paced like any other. */
  sendStream(status: number, headers: readonly WireHeader[], source: StreamSource): void {
    if (this.#defer(() => this.sendStream(status, headers, source), () => source.release())) return;
    this.#writeHead(status, headers);
    this.#startSender(new BodySender(this.#res, source, null, this.#host.openGate(this), this.#sentCallback, this.#faults));
  }

  /** Answers HEAD: the headers a GET would get, with its Content-Length, and no body. */
  sendHead(status: number, headers: readonly WireHeader[], contentLength: number): void {
    if (this.#defer(() => this.sendHead(status, headers, contentLength))) return;
    this.#writeHead(status, headers);
    // endWithoutBody(length) misbehaves in the pinned uWS build; announce the length ourselves.
    this.#res.writeHeader(CONTENT_LENGTH, String(contentLength));
    this.#res.endWithoutBody();
    this.#finish();
  }

  /** Sends a status with headers and no body (304, 204). */
  sendEmpty(status: number, headers: readonly WireHeader[]): void {
    if (this.#defer(() => this.sendEmpty(status, headers))) return;
    this.#writeHead(status, headers);
    this.#res.endWithoutBody();
    this.#finish();
  }

  /** Sends a body small enough to hand to uWS in one piece (or its length for HEAD). */
  sendWhole(status: number, headers: readonly WireHeader[], body: Uint8Array): void {
    if (this.#defer(() => this.sendWhole(status, headers, body))) return;
    if (this.head) return this.sendHead(status, headers, body.length);
    // Every body byte of a shaped server is paced, small ones included; a large body (a big
    // listing) streams under backpressure instead of sitting whole in uWS's buffer.
    // So is a body an injected stall or cut applies to (only the sender carries them out).
    const faulted = this.#faults !== null && (this.#faults.stallAfter !== null || this.#faults.cutAfter !== null);
    if (this.#paced || faulted || body.length > WHOLE_BODY_BYTES) return this.sendBody(status, headers, () => new MemorySource(body));
    this.#writeHead(status, headers);
    this.#bodyBytes = body.length;
    this.#res.end(body);
    this.#finish();
  }

  /** Sends a small generated body (listings) or its length for HEAD. */
  sendSmall(status: number, headers: readonly WireHeader[], body: string | Buffer): void {
    this.sendWhole(status, headers, typeof body === 'string' ? Buffer.from(body) : body);
  }

  /** Sends the catalog's HTML error page for `code`. */
  sendError(code: ErrorCode, options: ErrorOptions = {}): void {
    const { message } = ERROR_CATALOG[code];
    const status = options.status ?? ERROR_CATALOG[code].status;
    const page = errorPage(status, options.message ?? message, this.#host.tracebacks ? options.detail : undefined);
    this.sendSmall(
      status,
      [
        ['Content-Type', 'text/html; charset=utf-8'],
        ['Cache-Control', this.#host.generatedCacheControl],
        ...(status >= 400 ? [[ERROR_CODE, code] as const] : []),
        ...(options.headers ?? []),
      ],
      page,
    );
  }

  /**
   * Holds the response back by the injected time to first byte, once: true when it did (then
   * `send` runs later, corked, unless the client went away first: then `release`).
   */
  #defer(send: () => void, release: (() => void) | null = null): boolean {
    if (this.#ttfbMs === 0) return false;
    const ms = this.#ttfbMs;
    this.#ttfbMs = 0;
    this.goAsync();
    this.#holdRelease = release;
    this.#holdTimer = setTimeout(() => {
      this.#holdTimer = null;
      this.#holdRelease = null;
      this.resume(send);
    }, ms);
    return true;
  }

  /** A held response will not be sent: its timer stops and what it had ready is released. */
  #dropHold(): void {
    if (this.#holdTimer === null) return;
    clearTimeout(this.#holdTimer);
    this.#holdTimer = null;
    this.#holdRelease?.();
    this.#holdRelease = null;
  }

  #startSender(sender: BodySender): void {
    this.#sender = sender;
    if (this.#state === 'sync') this.goAsync();
    this.#state = 'sending';
    sender.start();
  }

  #writeHead(status: number, headers: readonly WireHeader[]): void {
    const res = this.#res;
    // The response starts: the rest of an upload is read (and dropped if nobody wants it).
    this.pauseBody(false);
    this.status = status;
    res.writeStatus(statusBytes(status));
    for (const [name, value] of headers) res.writeHeader(name, value);
    for (const [name, value] of this.#host.commonHeaders) res.writeHeader(name, value);
    // Without it, keep-alive clients (Node's agent) reuse a socket uWS is about to close; while
    // draining, it sends back-to-back clients to reconnect (elsewhere) instead of being cut later.
    if (this.#closeRequested || this.#host.closing) res.writeHeader(CONNECTION_CLOSE[0], CONNECTION_CLOSE[1]);
  }

  readonly #sentCallback = (outcome: SendOutcome, error: Error | null): void => {
    if (outcome === 'failed') {
      this.aborted = true;
      if (error) this.#reportError(error);
    }
    this.#finish();
  };

  /** The response will not complete: stop the body and the handler's work, and end. */
  #abandon(): void {
    this.aborted = true;
    this.#dropHold();
    this.#sender?.abort();
    this.onAbort?.();
    this.#finish();
  }

  #finish(): void {
    if (this.#state === 'ended') return;
    this.#state = 'ended';
    this.#dropHold();
    this.onEnd?.();
    this.#host.exchangeEnded(this);
  }

  #guard(write: () => void): void {
    try {
      write();
    } catch (error) {
      this.fail(error);
    }
  }

  /** A bug or I/O failure: 500 when nothing was sent yet, else close the connection. */
  fail(error: unknown): void {
    this.#reportError(error);
    this.cut(error instanceof Error ? error.stack : String(error));
  }

  /**
   * Ends the exchange after a failure already reported: the 500 page when nothing was sent yet,
   * else the connection is closed (the only honest signal once headers are out).
   */
  cut(detail?: string): void {
    if (this.#state === 'ended') return;
    if (this.status === 0) {
      try {
        this.sendError('internal', { detail });
        return;
      } catch (secondError) {
        this.#reportError(secondError);
      }
    }
    this.#abandon();
    this.#res.close();
  }

  #reportError(error: unknown): void {
    this.#host.reportError(error, this);
  }
}
