/**
 * The whole HTTP decision for a file, as a pure function: preconditions (412, then 304), then
 * Range with If-Range (206 / 416 / 200), then HEAD. The responder only executes the plan.
 */
import { evaluatePreconditions, ifRangeAllowsRange, type ConditionalHeaders } from './conditional.js';
import { evaluateRange } from './range.js';
import type { FileValidators } from './validators.js';

export type Header = readonly [name: string, value: string];
/** A header whose name and value may be pre-encoded to bytes for sending. */
export type RawHeader = readonly [name: string | Uint8Array, value: string | Uint8Array];

/** What the request asks, copied from its headers ('' when absent). */
export interface FileRequest extends ConditionalHeaders {
  readonly range: string;
  readonly ifRange: string;
}

/** What the server knows of the file. */
export interface FileFacts {
  readonly size: number;
  readonly validators: FileValidators;
  readonly contentType: string;
  readonly cacheControl: string;
}

export type FileResponsePlan =
  /** 200 or 206: send bytes [start, start + length) (for HEAD: announce the length). */
  | {
      readonly kind: 'body';
      readonly status: 200 | 206;
      readonly headers: readonly Header[];
      readonly start: number;
      readonly length: number;
    }
  /** 304: headers only. */
  | { readonly kind: 'not-modified'; readonly headers: readonly Header[] }
  /** 412 or 416: an error page with these extra headers. */
  | { readonly kind: 'error'; readonly status: 412 | 416; readonly headers: readonly Header[] };

/** Decides the response to a GET or HEAD of a file. `noCacheMode` never answers 304. */
export function planFileResponse(request: FileRequest, file: FileFacts, noCacheMode: boolean): FileResponsePlan {
  const { validators } = file;
  const verdict = evaluatePreconditions(request, validators, !noCacheMode);
  if (verdict === 'precondition-failed') return { kind: 'error', status: 412, headers: [] };
  if (verdict === 'not-modified') {
    return {
      kind: 'not-modified',
      headers: [
        ['ETag', validators.etag],
        ['Last-Modified', validators.lastModified],
        ['Cache-Control', file.cacheControl],
      ],
    };
  }
  const outcome =
    request.range !== '' && ifRangeAllowsRange(request.ifRange, validators)
      ? evaluateRange(request.range, file.size)
      : { kind: 'full' as const };
  if (outcome.kind === 'unsatisfiable') {
    return {
      kind: 'error',
      status: 416,
      headers: [
        ['Content-Range', `bytes */${file.size}`],
        ['Accept-Ranges', 'bytes'],
      ],
    };
  }
  const headers: Header[] = [
    ['Content-Type', file.contentType],
    ['Accept-Ranges', 'bytes'],
    ['ETag', validators.etag],
    ['Last-Modified', validators.lastModified],
    ['Cache-Control', file.cacheControl],
  ];
  if (outcome.kind === 'partial') {
    headers.push(['Content-Range', `bytes ${outcome.start}-${outcome.end}/${file.size}`]);
    return {
      kind: 'body',
      status: 206,
      headers,
      start: outcome.start,
      length: outcome.end - outcome.start + 1,
    };
  }
  return { kind: 'body', status: 200, headers, start: 0, length: file.size };
}
