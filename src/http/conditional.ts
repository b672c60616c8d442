/**
 * Conditional requests (RFC 9110 §13): preconditions evaluated in the RFC's order, and If-Range.
 * Pure: validators and header values in, a verdict out.
 */

/** The validators of the selected representation. */
export interface Validators {
  /** Strong entity tag, quoted: `"1f4-18c2e1a7b40"`. */
  readonly etag: string;
  /** Modification time in whole seconds since the epoch (HTTP dates have 1 s resolution). */
  readonly lastModifiedSec: number;
}

/** The request's conditional headers, '' when absent. */
export interface ConditionalHeaders {
  readonly ifMatch: string;
  readonly ifNoneMatch: string;
  readonly ifModifiedSince: string;
  readonly ifUnmodifiedSince: string;
}

export type PreconditionVerdict = 'proceed' | 'not-modified' | 'precondition-failed';

/**
 * Evaluates preconditions for a GET or HEAD of an existing representation. With
 * `allowNotModified` false (the --no-cache test mode) a request that would get 304 proceeds.
 */
export function evaluatePreconditions(
  headers: ConditionalHeaders,
  validators: Validators,
  allowNotModified: boolean,
): PreconditionVerdict {
  // Step 1 and 2: If-Match, else If-Unmodified-Since.
  if (headers.ifMatch !== '') {
    if (!matchesAny(headers.ifMatch, validators.etag, true)) return 'precondition-failed';
  } else if (headers.ifUnmodifiedSince !== '') {
    const since = parseHttpDateSec(headers.ifUnmodifiedSince);
    if (since !== null && validators.lastModifiedSec > since) return 'precondition-failed';
  }
  // Step 3 and 4: If-None-Match (wins), else If-Modified-Since. GET/HEAD only, so 304 not 412.
  if (headers.ifNoneMatch !== '') {
    if (matchesAny(headers.ifNoneMatch, validators.etag, false)) return allowNotModified ? 'not-modified' : 'proceed';
  } else if (headers.ifModifiedSince !== '') {
    const since = parseHttpDateSec(headers.ifModifiedSince);
    if (since !== null && validators.lastModifiedSec <= since) return allowNotModified ? 'not-modified' : 'proceed';
  }
  return 'proceed';
}

/**
 * If-Range (RFC 9110 §13.1.5): true when the Range header may be honoured. An entity tag must
 * match strongly (a weak tag never does); a date must equal Last-Modified exactly.
 */
export function ifRangeAllowsRange(ifRange: string, validators: Validators): boolean {
  if (ifRange === '') return true;
  const value = ifRange.trim();
  if (value.startsWith('"') || value.startsWith('W/')) {
    const tag = parseEntityTag(value);
    return tag !== null && !tag.weak && tag.opaque === validators.etag;
  }
  const date = parseHttpDateSec(value);
  return date !== null && date === validators.lastModifiedSec;
}

interface EntityTag {
  readonly weak: boolean;
  /** The quoted opaque tag, quotes included. */
  readonly opaque: string;
}

/** `*` matches any current representation; otherwise compares against each listed tag. */
function matchesAny(header: string, etag: string, strong: boolean): boolean {
  const value = header.trim();
  if (value === '*') return true;
  for (const item of value.split(',')) {
    const tag = parseEntityTag(item.trim());
    if (tag === null) continue;
    if (strong && tag.weak) continue;
    if (tag.opaque === etag) return true;
  }
  return false;
}

/** Parses one entity tag; tolerates a missing pair of quotes, as some clients send. */
function parseEntityTag(text: string): EntityTag | null {
  const weak = text.startsWith('W/');
  const body = weak ? text.slice(2) : text;
  if (body === '') return null;
  if (body.startsWith('"')) {
    if (body.length < 2 || !body.endsWith('"') || body.indexOf('"', 1) !== body.length - 1) return null;
    return { weak, opaque: body };
  }
  if (/[\s",]/.test(body)) return null;
  return { weak, opaque: `"${body}"` };
}

/** IMF-fixdate, obsolete RFC 850 and asctime forms (RFC 9110 §5.6.7). */
const HTTP_DATE =
  /^(?:[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT|[A-Za-z]+, \d{2}-[A-Za-z]{3}-\d{2} \d{2}:\d{2}:\d{2} GMT|[A-Za-z]{3} [A-Za-z]{3} [ \d]\d \d{2}:\d{2}:\d{2} \d{4})$/;

/** Parses an HTTP-date into whole epoch seconds, or null when it is not one (then it is ignored). */
export function parseHttpDateSec(text: string): number | null {
  const trimmed = text.trim();
  if (!HTTP_DATE.test(trimmed)) return null;
  const ms = Date.parse(trimmed.endsWith('GMT') ? trimmed : `${trimmed} GMT`);
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : null;
}
