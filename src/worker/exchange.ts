/**
 * One request/response pair over uWS, and the response discipline in one place: request fields
 * are copied while `req` is alive; `onAborted` is attached before anything goes asynchronous;
 * deferred writes are corked; there is exactly one way to end (idempotent), whatever happens.
 */
import type { HttpRequest, HttpResponse } from '../../native-bindings/uws.js';
import { MemorySource, type BodySource } from '../files/body-source.js';
import { errorPage } from '../http/error-page.js';
import { hostName } from '../http/host-header.js';
import type { ServerShaper, TokenGate } from '../shaping/server-shaper.js';
import { BodySender, type SendOutcome } from './body-sender.js';
import { CONNECTION_CLOSE, CONTENT_LENGTH, REQUEST_HEADER, statusBytes, type WireHeader } from './wire.js';

/** What an exchange needs from the server it belongs to. */
export interface ExchangeHost {
  /** Headers added to every response (CORS). */
  readonly commonHeaders: readonly WireHeader[];
  /** Cache-Control of error responses and generated pages. */
  readonly generatedCacheControl: string;
  /** True when response bodies go through a token gate. */
  readonly shaped: boolean;
  readonly tracebacks: boolean;
  /** Request header (lower-case name) that identifies the client for shaping, if any. */
  readonly clientIdHeader: string | null;
  /** Some peers are trusted to forward for others: read X-Forwarded-For. */
  readonly readsForwardedFor: boolean;
  /** The server has virtual hosts: read the Host header. */
  readonly routesByHost: boolean;
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
  readonly url: string;
  readonly range: string = '';
  readonly ifRange: string = '';
  readonly ifMatch: string = '';
  readonly ifNoneMatch: string = '';
  readonly ifModifiedSince: string = '';
  readonly ifUnmodifiedSince: string = '';
  readonly accessControlRequestHeaders: string = '';
  /** Value of the shaping client-id header ('' when absent or not configured). */
  readonly clientId: string = '';
  /** X-Forwarded-For ('' when absent or when no peer is trusted to send it). */
  readonly forwardedFor: string = '';
  /** Called once when the exchange ends (releases what choosing its bucket held). */
  onEnd: (() => void) | null = null;
  /** The body is paced: the server is shaped, or the virtual host answering. */
  shaped: boolean;
  /** The answering virtual host's own shaper, when it has limits of its own. */
  vhostShaper: ServerShaper | null = null;
  /** Virtual host name from the Host header ('' unless the server has virtual hosts). */
  readonly host: string = '';
  /** For the access log (empty unless logging): peer address, headers, arrival time. */
  readonly remote: ArrayBuffer | null = null;
  readonly referer: string = '';
  readonly userAgent: string = '';
  readonly time: number = 0;
  /** Status sent (0 until headers are written). */
  status = 0;
  /** The connection was lost before the response completed. */
  aborted = false;
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

  constructor(res: HttpResponse, req: HttpRequest, host: ExchangeHost) {
    this.#res = res;
    this.#host = host;
    this.#req = req;
    this.shaped = host.shaped;
    // Only the headers this method can use are copied: each read crosses into native code.
    this.method = req.getCaseSensitiveMethod();
    this.url = req.getUrl();
    if (this.method === 'GET' || this.method === 'HEAD') {
      this.range = req.getHeader(REQUEST_HEADER.range);
      if (this.range !== '') this.ifRange = req.getHeader(REQUEST_HEADER.ifRange);
      this.ifMatch = req.getHeader(REQUEST_HEADER.ifMatch);
      this.ifNoneMatch = req.getHeader(REQUEST_HEADER.ifNoneMatch);
      this.ifModifiedSince = req.getHeader(REQUEST_HEADER.ifModifiedSince);
      this.ifUnmodifiedSince = req.getHeader(REQUEST_HEADER.ifUnmodifiedSince);
    } else if (this.method === 'OPTIONS') {
      this.accessControlRequestHeaders = req.getHeader(REQUEST_HEADER.accessControlRequestHeaders);
    }
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
    if (host.routesByHost) this.host = hostName(req.getHeader(REQUEST_HEADER.host));
    if (host.logsAccess) {
      this.remote = res.getRemoteAddress();
      this.referer = req.getHeader(REQUEST_HEADER.referer);
      this.userAgent = req.getHeader(REQUEST_HEADER.userAgent);
      this.time = Date.now();
    }
    const connection = req.getHeader(REQUEST_HEADER.connection);
    this.#closeRequested = connection !== '' && connection !== 'keep-alive' && CLOSE_TOKEN.test(connection);
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

  /** No range and no validators: the response depends on the file alone. */
  get plain(): boolean {
    return this.range === '' && this.ifNoneMatch === '' && this.ifModifiedSince === '' && this.ifMatch === '' && this.ifUnmodifiedSince === '';
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

  /** Must be called before the handler returns without having ended the response. */
  goAsync(): void {
    if (this.#state !== 'sync') return;
    void this.query; // capture while `req` is alive
    this.#state = 'async';
    this.#res.onAborted(() => this.#onAborted());
  }

  /** Runs `write` corked, unless the exchange already ended (then it is skipped). */
  resume(write: () => void): void {
    if (this.#state === 'ended') return;
    this.#res.cork(() => this.#guard(write));
  }

  /** Sends headers and streams `source` as the body. */
  sendBody(status: number, headers: readonly WireHeader[], source: BodySource): void {
    this.#writeHead(status, headers);
    if (source.length === 0) {
      // Nothing to pace or stream: a token gate would wait forever for a first byte.
      source.release();
      this.#res.end(EMPTY_BODY);
      this.#finish();
      return;
    }
    const gate = this.#host.openGate(this);
    const sender = new BodySender(this.#res, source, source.length, gate, (outcome, error) => this.#onSent(outcome, error));
    this.#sender = sender;
    if (this.#state === 'sync') this.goAsync();
    this.#state = 'sending';
    sender.start();
  }

  /** Answers HEAD: the headers a GET would get, with its Content-Length, and no body. */
  sendHead(status: number, headers: readonly WireHeader[], contentLength: number): void {
    this.#writeHead(status, headers);
    // endWithoutBody(length) misbehaves in the pinned uWS build; announce the length ourselves.
    this.#res.writeHeader(CONTENT_LENGTH, String(contentLength));
    this.#res.endWithoutBody();
    this.#finish();
  }

  /** Sends a status with headers and no body (304, 204). */
  sendEmpty(status: number, headers: readonly WireHeader[]): void {
    this.#writeHead(status, headers);
    this.#res.endWithoutBody();
    this.#finish();
  }

  /** Sends a body small enough to hand to uWS in one piece (or its length for HEAD). */
  sendWhole(status: number, headers: readonly WireHeader[], body: Uint8Array): void {
    if (this.head) return this.sendHead(status, headers, body.length);
    // Every body byte of a shaped server is paced, small ones included; a large body (a big
    // listing) streams under backpressure instead of sitting whole in uWS's buffer.
    if (this.shaped || body.length > WHOLE_BODY_BYTES) return this.sendBody(status, headers, new MemorySource(body));
    this.#writeHead(status, headers);
    this.#bodyBytes = body.length;
    this.#res.end(body);
    this.#finish();
  }

  /** Sends a small generated body (listings) or its length for HEAD. */
  sendSmall(status: number, headers: readonly WireHeader[], body: string | Buffer): void {
    this.sendWhole(status, headers, typeof body === 'string' ? Buffer.from(body) : body);
  }

  /** Sends an HTML error page. `detail` shows only when tracebacks are on. */
  sendError(status: number, message?: string, headers: readonly WireHeader[] = [], detail?: string): void {
    const page = errorPage(status, message, this.#host.tracebacks ? detail : undefined);
    this.sendSmall(
      status,
      [['Content-Type', 'text/html; charset=utf-8'], ['Cache-Control', this.#host.generatedCacheControl], ...headers],
      page,
    );
  }

  #writeHead(status: number, headers: readonly WireHeader[]): void {
    const res = this.#res;
    this.status = status;
    res.writeStatus(statusBytes(status));
    for (const [name, value] of headers) res.writeHeader(name, value);
    for (const [name, value] of this.#host.commonHeaders) res.writeHeader(name, value);
    // Without it, keep-alive clients (Node's agent) reuse a socket uWS is about to close; while
    // draining, it sends back-to-back clients to reconnect (elsewhere) instead of being cut later.
    if (this.#closeRequested || this.#host.closing) res.writeHeader(CONNECTION_CLOSE[0], CONNECTION_CLOSE[1]);
  }

  #onSent(outcome: SendOutcome, error: Error | null): void {
    if (outcome === 'failed') {
      this.aborted = true;
      if (error) this.#reportError(error);
    }
    this.#finish();
  }

  #onAborted(): void {
    this.aborted = true;
    this.#sender?.abort();
    this.#finish();
  }

  #finish(): void {
    if (this.#state === 'ended') return;
    this.#state = 'ended';
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
    if (this.#state === 'ended') return;
    if (this.status === 0) {
      try {
        this.sendError(500, 'The server could not complete this request.', [], error instanceof Error ? error.stack : String(error));
        return;
      } catch (secondError) {
        this.#reportError(secondError);
      }
    }
    this.aborted = true;
    this.#finish();
    this.#res.close();
  }

  #reportError(error: unknown): void {
    this.#host.reportError(error, this);
  }
}
