/**
 * The Range request header (RFC 9110 §14.2), parsed against a representation length. Pure.
 *
 * - Syntax errors, unknown units or a range whose last position is before its first make the
 *   header invalid: it is ignored and the whole representation is sent (200).
 * - Valid but unsatisfiable (every range starts at or past the end): 416.
 * - Several ranges are merged when they overlap or touch; if more than one remains the server
 *   answers 200 with the whole representation instead of multipart/byteranges (allowed by the
 *   RFC, and what media players never need).
 */

export type RangeOutcome =
  /** No Range header, or one to ignore: send the whole representation. */
  | { readonly kind: 'full' }
  /** One satisfiable range, inclusive bounds. */
  | { readonly kind: 'partial'; readonly start: number; readonly end: number }
  /** A valid header no part of which overlaps the representation. */
  | { readonly kind: 'unsatisfiable' };

const FULL: RangeOutcome = Object.freeze({ kind: 'full' });
const UNSATISFIABLE: RangeOutcome = Object.freeze({ kind: 'unsatisfiable' });

/** Beyond this many ranges a header is treated as abuse and ignored. */
const MAX_RANGES = 64;
const RANGE_SPEC = /^(\d*)-(\d*)$/;

/** Evaluates a Range header value for a representation of `size` bytes. */
export function evaluateRange(header: string, size: number): RangeOutcome {
  if (header === '') return FULL;
  const eq = header.indexOf('=');
  if (eq <= 0 || header.slice(0, eq).toLowerCase() !== 'bytes') return FULL;
  const specs = header.slice(eq + 1).split(',');
  if (specs.length > MAX_RANGES) return FULL;
  const ranges: Array<[number, number]> = [];
  let sawSpec = false;
  for (const rawSpec of specs) {
    const spec = rawSpec.trim();
    if (spec === '') continue; // empty list elements are allowed by the #rule
    const match = RANGE_SPEC.exec(spec);
    if (!match) return FULL;
    const [, first, last] = match as unknown as [string, string, string];
    if (first === '' && last === '') return FULL;
    sawSpec = true;
    if (first === '') {
      // suffix-range: the last N bytes
      const length = Number(last);
      if (length > 0 && size > 0) ranges.push([Math.max(0, size - length), size - 1]);
      continue;
    }
    const start = Number(first);
    const end = last === '' ? Infinity : Number(last);
    if (end < start) return FULL;
    if (start < size) ranges.push([start, Math.min(end, size - 1)]);
  }
  if (!sawSpec) return FULL;
  if (ranges.length === 0) return UNSATISFIABLE;
  const merged = mergeRanges(ranges);
  if (merged.length !== 1) return FULL;
  const [start, end] = merged[0]!;
  return { kind: 'partial', start, end };
}

function mergeRanges(ranges: Array<[number, number]>): Array<[number, number]> {
  if (ranges.length === 1) return ranges;
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [[...sorted[0]!]];
  for (let i = 1; i < sorted.length; i++) {
    const current = merged[merged.length - 1]!;
    const [start, end] = sorted[i]!;
    if (start <= current[1] + 1) current[1] = Math.max(current[1], end);
    else merged.push([start, end]);
  }
  return merged;
}
