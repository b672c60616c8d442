/**
 * One request/response pair over uWS, and the response discipline in one place: request fields
 * are copied while `req` is alive; `onAborted` is attached before anything goes asynchronous;
 * deferred writes are corked; there is exactly one way to end (idempotent), whatever happens.
 */
import type { HttpRequest, HttpResponse } from '../../native-bindings/uws.js';
import type { BodySource } from '../http/body-source.js';
import { errorPage } from '../http/error-page.js';
import type { Header } from '../http/file-response-plan.js';
import { statusLine } from '../http/status.js';
import { BodySender, type SendOutcome } from './body-sender.js';

/** What an exchange needs from the server it belongs to. */
export interface ExchangeHost {
  /** Headers added to every response (CORS). */
  readonly commonHeaders: readonly Header[];
  /** Cache-Control of error responses and generated pages. */
  readonly generatedCacheControl: string;
  readonly tracebacks: boolean;
  /** Logs an error met while answering (I/O failure or bug). */
  reportError(error: unknown, exchange: Exchange): void;
  /** Called once per exchange when it ends, however it ends. */
  exchangeEnded(exchange: Exchange): void;
}

const CLOSE_TOKEN = /(?:^|,)\s*close\s*(?:,|$)/i;

type ExchangeState = 'sync' | 'async' | 'sending' | 'ended';

export class Exchange {
  readonly method: string;
  readonly url: string;
  readonly query: string;
  readonly range: string;
  readonly ifRange: string;
  readonly ifMatch: string;
  readonly ifNoneMatch: string;
  readonly ifModifiedSince: string;
  readonly ifUnmodifiedSince: string;
  readonly accessControlRequestHeaders: string;
  /** The client sent `Connection: close`; uWS closes after the response, we say so. */
  readonly #closeRequested: boolean;
  /** Status sent (0 until headers are written). */
  status = 0;
  /** The connection was lost before the response completed. */
  aborted = false;
  readonly #res: HttpResponse;
  readonly #host: ExchangeHost;
  #state: ExchangeState = 'sync';
  #sender: BodySender | null = null;
  #bodyBytes = 0;

  constructor(res: HttpResponse, req: HttpRequest, host: ExchangeHost) {
    this.#res = res;
    this.#host = host;
    // `req` is only valid during the handler call: copy everything needed later, now.
    this.method = req.getCaseSensitiveMethod();
    this.url = req.getUrl();
    this.query = req.getQuery() ?? '';
    this.range = req.getHeader('range');
    this.ifRange = req.getHeader('if-range');
    this.ifMatch = req.getHeader('if-match');
    this.ifNoneMatch = req.getHeader('if-none-match');
    this.ifModifiedSince = req.getHeader('if-modified-since');
    this.ifUnmodifiedSince = req.getHeader('if-unmodified-since');
    this.accessControlRequestHeaders = req.getHeader('access-control-request-headers');
    this.#closeRequested = CLOSE_TOKEN.test(req.getHeader('connection'));
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
    this.#state = 'async';
    this.#res.onAborted(() => this.#onAborted());
  }

  /** Runs `write` corked, unless the exchange already ended (then it is skipped). */
  resume(write: () => void): void {
    if (this.#state === 'ended') return;
    this.#res.cork(() => this.#guard(write));
  }

  /** Runs response code, turning an unexpected throw into a 500 (or a closed connection). */
  run(write: () => void): void {
    this.#guard(write);
  }

  /** Sends headers and streams `source` as the body. */
  sendBody(status: string, headers: readonly Header[], source: BodySource): void {
    this.#writeHead(status, headers);
    const sender = new BodySender(this.#res, source, source.length, (outcome, error) => this.#onSent(outcome, error));
    this.#sender = sender;
    if (this.#state === 'sync') this.goAsync();
    this.#state = 'sending';
    sender.start();
  }

  /** Answers HEAD: the headers a GET would get, with its Content-Length, and no body. */
  sendHead(status: string, headers: readonly Header[], contentLength: number): void {
    this.#writeHead(status, headers);
    // endWithoutBody(length) misbehaves in the pinned uWS build; announce the length ourselves.
    this.#res.writeHeader('Content-Length', String(contentLength));
    this.#end(() => this.#res.endWithoutBody());
  }

  /** Sends a status with headers and no body (304, 204). */
  sendEmpty(status: string, headers: readonly Header[]): void {
    this.#writeHead(status, headers);
    this.#end(() => this.#res.endWithoutBody());
  }

  /** Sends a small generated body (listings) or its length for HEAD. */
  sendSmall(status: string, headers: readonly Header[], body: string | Buffer): void {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    if (this.head) return this.sendHead(status, headers, bytes.length);
    this.#writeHead(status, headers);
    this.#bodyBytes = bytes.length;
    this.#end(() => this.#res.end(bytes));
  }

  /** Sends an HTML error page. `detail` shows only when tracebacks are on. */
  sendError(status: number, message?: string, headers: readonly Header[] = [], detail?: string): void {
    const page = errorPage(status, message, this.#host.tracebacks ? detail : undefined);
    this.sendSmall(
      statusLine(status),
      [['Content-Type', 'text/html; charset=utf-8'], ['Cache-Control', this.#host.generatedCacheControl], ...headers],
      page,
    );
  }

  #writeHead(status: string, headers: readonly Header[]): void {
    const res = this.#res;
    this.status = Number(status.slice(0, 3));
    res.writeStatus(status);
    for (const [name, value] of headers) res.writeHeader(name, value);
    for (const [name, value] of this.#host.commonHeaders) res.writeHeader(name, value);
    // Without it, keep-alive clients (Node's agent) reuse a socket uWS is about to close.
    if (this.#closeRequested) res.writeHeader('Connection', 'close');
  }

  #end(finish: () => void): void {
    finish();
    this.#finish();
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
    this.#host.exchangeEnded(this);
  }

  #guard(write: () => void): void {
    try {
      write();
    } catch (error) {
      this.#failUnexpectedly(error);
    }
  }

  /** A bug or I/O failure: 500 when nothing was sent yet, else close the connection. */
  #failUnexpectedly(error: unknown): void {
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
