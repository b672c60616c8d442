/**
 * The static handler: files, directory listings and redirects of a site, with preconditions and
 * ranges. It copies only the request facts a file response depends on, and hands bodies to the
 * respond layer, which paces them when the server is shaped.
 */
import type { HttpRequest } from '../../../native-bindings/uws.js';
import type { HttpPolicy } from '../../config/plan.js';
import type { BlockCache } from '../../files/block-cache.js';
import { FileSource, MemorySource, SharedBlockSource, type BodySource } from '../../files/body-source.js';
import type { BufferPool } from '../../files/buffer-pool.js';
import type { CachedFile, OpenedFile } from '../../files/file-cache.js';
import { fileErrorKind } from '../../files/file-errors.js';
import { ALLOWED_METHODS, preflightHeaders } from '../../http/cors.js';
import { planFileResponse, type FileRequest, type FileResponsePlan } from '../../http/file-response-plan.js';
import { decodeRequestPath } from '../../http/request-path.js';
import { WHOLE_BODY_BYTES, type Exchange } from '../../respond/exchange.js';
import { encodeHeaders, REQUEST_HEADER, type WireHeader } from '../../respond/wire.js';
import type { PublicOrigin } from '../../router/monster-path.js';
import { discardAnswer, type SiteAnswer, type SiteRuntime } from './site-runtime.js';

const EMPTY_BODY = new Uint8Array(0);
/** A GET without range or validators: its response depends on the file alone. */
const PLAIN: FileRequest = Object.freeze({ range: '', ifRange: '', ifMatch: '', ifNoneMatch: '', ifModifiedSince: '', ifUnmodifiedSince: '' });

export interface StaticHandlerOptions {
  readonly http: HttpPolicy;
  readonly pool: BufferPool;
  /** Read blocks shared by paced bodies (one cache per worker). */
  readonly blocks: BlockCache;
  /** Cache-Control of generated pages. */
  readonly generatedCacheControl: string;
  readonly reportError: (error: unknown, exchange: Exchange) => void;
  /** A file was served whole from memory (playlists tell the control plane about renditions). */
  readonly servedWhole?: (exchange: Exchange, file: CachedFile, body: Buffer) => void;
}

export class StaticHandler {
  readonly #http: HttpPolicy;
  readonly #pool: BufferPool;
  readonly #blocks: BlockCache;
  readonly #generatedCacheControl: string;
  readonly #reportError: (error: unknown, exchange: Exchange) => void;

  readonly #servedWhole: StaticHandlerOptions['servedWhole'] | null;

  constructor(options: StaticHandlerOptions) {
    this.#http = options.http;
    this.#pool = options.pool;
    this.#blocks = options.blocks;
    this.#generatedCacheControl = options.generatedCacheControl;
    this.#reportError = options.reportError;
    this.#servedWhole = options.servedWhole ?? null;
  }

  /** Answers a request for raw path `path` of `site`; called inside the uWS handler. */
  handle(exchange: Exchange, site: SiteRuntime, path: string, origin: PublicOrigin | null): void {
    switch (exchange.method) {
      case 'GET':
      case 'HEAD':
        return this.#serve(exchange, site, path, origin, readFileRequest(exchange.request));
      case 'OPTIONS':
        return exchange.sendEmpty(204, [
          ['Allow', ALLOWED_METHODS],
          ...(this.#http.cors ? preflightHeaders(exchange.request.getHeader(REQUEST_HEADER.accessControlRequestHeaders)) : []),
        ]);
      default:
        return exchange.sendError('method-not-allowed', {
          message: `The ${exchange.method} method is not allowed here.`,
          headers: [['Allow', ALLOWED_METHODS]],
        });
    }
  }

  #serve(exchange: Exchange, site: SiteRuntime, path: string, origin: PublicOrigin | null, request: FileRequest): void {
    // Hot path: a small file checked against the disk within the last second, answered from
    // memory without leaving the handler. Its raw path was validated when it was cached.
    const cached = site.cache.fresh(path);
    const body = cached?.stored?.buffer;
    if (body) return this.#sendFile(exchange, request, { file: cached!, body, handle: null });
    const decoded = decodeRequestPath(path);
    if (!decoded.ok) return exchange.sendError('bad-path', { message: decoded.reason });
    exchange.goAsync();
    site.answer(path, decoded.segments, decoded.trailingSlash, exchange.query).then(
      (answer) => {
        if (exchange.ended) discardAnswer(answer);
        else exchange.resume(() => this.#sendAnswer(exchange, request, answer, origin));
      },
      (error: unknown) => exchange.resume(() => this.#sendFailure(exchange, error)),
    );
  }

  #sendAnswer(exchange: Exchange, request: FileRequest, answer: SiteAnswer, origin: PublicOrigin | null): void {
    switch (answer.kind) {
      case 'file':
        return this.#sendFile(exchange, request, answer.opened);
      case 'redirect': {
        // Behind a vhost monster path, the client's own URL; else an absolute path.
        const location = origin === null ? answer.location : `${origin.scheme}://${origin.authority}${answer.location}`;
        return exchange.sendError('moved-to-directory', { headers: [['Location', location]] });
      }
      case 'listing':
        return exchange.sendSmall(
          200,
          [['Content-Type', 'text/html; charset=utf-8'], ['Cache-Control', this.#generatedCacheControl]],
          answer.html,
        );
      case 'forbidden':
      case 'listing-off':
      case 'not-found':
        return exchange.sendError(answer.kind);
    }
  }

  #sendFile(exchange: Exchange, request: FileRequest, opened: OpenedFile): void {
    const { file, body } = opened;
    // Most requests carry no range or validator: their plan depends on the file alone, so it is
    // made and encoded once per file version.
    let plan: FileResponsePlan;
    let headers: readonly WireHeader[];
    if (request === PLAIN) {
      file.plain ??= encodedPlan(planFileResponse(request, file.facts, this.#http.noCache));
      ({ plan, headers } = file.plain);
    } else {
      plan = planFileResponse(request, file.facts, this.#http.noCache);
      headers = plan.headers;
    }
    if (plan.kind !== 'body' || exchange.head) opened.handle?.release();
    switch (plan.kind) {
      case 'body': {
        if (exchange.head) return exchange.sendHead(plan.status, headers, plan.length);
        const { start, length } = plan;
        if (body !== null && length <= WHOLE_BODY_BYTES) {
          if (length === body.length) this.#servedWhole?.(exchange, file, body);
          return exchange.sendWhole(plan.status, headers, length === body.length ? body : body.subarray(start, start + length));
        }
        return exchange.sendBody(plan.status, headers, (paced) => this.#source(opened, start, length, paced));
      }
      case 'not-modified':
        return exchange.sendEmpty(304, headers);
      case 'error':
        return exchange.sendError(plan.status === 416 ? 'range-not-satisfiable' : 'precondition-failed', { headers });
    }
  }

  #source(opened: OpenedFile, start: number, length: number, paced: boolean): BodySource {
    const { body } = opened;
    if (body !== null) return new MemorySource(body.subarray(start, start + length));
    if (length === 0 || opened.handle === null) {
      opened.handle?.release();
      return new MemorySource(EMPTY_BODY);
    }
    // Paced bodies are slow by design, and load tests run many on the same files: they share
    // cached blocks instead of each holding its own read buffers.
    if (paced) return new SharedBlockSource(opened.handle, opened.file, start, length, this.#blocks);
    return new FileSource(opened.handle, start, length, this.#pool);
  }

  /**
   * A file that vanished or turned unreadable between lookup and open is 404/403, the process out
   * of descriptors a 503 to retry, not a crash.
   */
  #sendFailure(exchange: Exchange, error: unknown): void {
    switch (fileErrorKind(error)) {
      case 'missing':
        return exchange.sendError('not-found');
      case 'forbidden':
        return exchange.sendError('forbidden');
      case 'busy':
        this.#reportError(error, exchange);
        return exchange.sendError('out-of-resources', { headers: [['Retry-After', '1']] });
      case null:
        break;
    }
    this.#reportError(error, exchange);
    exchange.sendError('read-failed', { detail: error instanceof Error ? error.stack : String(error) });
  }
}

/** The range and validators of a GET or HEAD, or PLAIN when it carries none. */
function readFileRequest(req: HttpRequest): FileRequest {
  const range = req.getHeader(REQUEST_HEADER.range);
  const ifMatch = req.getHeader(REQUEST_HEADER.ifMatch);
  const ifNoneMatch = req.getHeader(REQUEST_HEADER.ifNoneMatch);
  const ifModifiedSince = req.getHeader(REQUEST_HEADER.ifModifiedSince);
  const ifUnmodifiedSince = req.getHeader(REQUEST_HEADER.ifUnmodifiedSince);
  if (range === '' && ifMatch === '' && ifNoneMatch === '' && ifModifiedSince === '' && ifUnmodifiedSince === '') return PLAIN;
  const ifRange = range === '' ? '' : req.getHeader(REQUEST_HEADER.ifRange);
  return { range, ifRange, ifMatch, ifNoneMatch, ifModifiedSince, ifUnmodifiedSince };
}

function encodedPlan(plan: FileResponsePlan): { plan: FileResponsePlan; headers: readonly WireHeader[] } {
  return { plan, headers: encodeHeaders(plan.headers) };
}
