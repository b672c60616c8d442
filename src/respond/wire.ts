/**
 * Bytes for uWS. Every string passed to uWS is converted to UTF-8 on each call; header names,
 * status lines and per-file header values are encoded once and passed as bytes instead (about a
 * tenth of the CPU per small response).
 */
import type { Header, RawHeader } from '../http/file-response-plan.js';
import { statusLine } from '../http/status.js';

/** A header as uWS takes it: strings (converted per call) or pre-encoded bytes. */
export type WireHeader = RawHeader;

const encoder = new TextEncoder();
export const bytes = (text: string): Uint8Array => encoder.encode(text);

/**
 * Pre-encodes headers that will be sent many times, as one block: uWS writes a header as
 * `name: value\r\n` verbatim, so the first header's value may carry the following lines, and the
 * whole block costs one native call instead of one per header. Only for headers the server makes
 * itself (a line break in one would be a bug, and is refused).
 */
export function encodeHeaders(headers: readonly Header[]): WireHeader[] {
  const [first, ...rest] = headers;
  if (first === undefined) return [];
  for (const [name, value] of headers) {
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) throw new Error(`line break in header ${JSON.stringify(name)}`);
  }
  const value = first[1] + rest.map(([n, v]) => `\r\n${n}: ${v}`).join('');
  return [[bytes(first[0]), bytes(value)]];
}

const statusLines = new Map<number, Uint8Array>();

/** `200 OK` for 200, encoded once. */
export function statusBytes(status: number): Uint8Array {
  let line = statusLines.get(status);
  if (line === undefined) {
    line = bytes(statusLine(status));
    statusLines.set(status, line);
  }
  return line;
}

/** Request header names, lower-case, for req.getHeader(). */
export const REQUEST_HEADER = {
  range: bytes('range'),
  ifRange: bytes('if-range'),
  ifMatch: bytes('if-match'),
  ifNoneMatch: bytes('if-none-match'),
  ifModifiedSince: bytes('if-modified-since'),
  ifUnmodifiedSince: bytes('if-unmodified-since'),
  accessControlRequestHeaders: bytes('access-control-request-headers'),
  connection: bytes('connection'),
  host: bytes('host'),
  referer: bytes('referer'),
  userAgent: bytes('user-agent'),
} as const;

export const CONNECTION_CLOSE: WireHeader = [bytes('Connection'), bytes('close')];
export const CONTENT_LENGTH = bytes('Content-Length');
/** Names the catalog code of an error response made here (src/http/error-catalog.ts). */
export const ERROR_CODE = bytes('Mediacast-Error');
