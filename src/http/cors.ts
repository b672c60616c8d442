/**
 * CORS for browser players on another origin (hls.js, dash.js, Shaka): every response, errors
 * included, carries the allow-origin header (a player that cannot read a 404 cannot report it);
 * the headers players read from JavaScript are exposed; Resource Timing is allowed so players can
 * measure transfer times; preflights allow the Range header.
 */
import type { Header } from './file-response-plan.js';

/** Headers added to every response when CORS is on. */
export const CORS_RESPONSE_HEADERS: readonly Header[] = Object.freeze([
  ['Access-Control-Allow-Origin', '*'],
  ['Access-Control-Expose-Headers', 'Content-Length, Content-Range, Accept-Ranges, ETag, Last-Modified, Date'],
  ['Timing-Allow-Origin', '*'],
] as const);

export const ALLOWED_METHODS = 'GET, HEAD, OPTIONS';

/** Headers of the answer to a preflight; `requestedHeaders` is Access-Control-Request-Headers. */
export function preflightHeaders(requestedHeaders: string): Header[] {
  const allowed = new Set(['range']);
  for (const name of requestedHeaders.split(',')) {
    const trimmed = name.trim().toLowerCase();
    if (/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(trimmed)) allowed.add(trimmed);
  }
  return [
    ['Access-Control-Allow-Methods', ALLOWED_METHODS],
    ['Access-Control-Allow-Headers', [...allowed].join(', ')],
    ['Access-Control-Max-Age', '86400'],
  ];
}
