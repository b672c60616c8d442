/**
 * Decoding of the request target's path into safe path segments: the first gate against serving
 * anything outside the root. Pure; the filesystem checks (symlinks) come later.
 */

export type DecodedPath =
  | {
      readonly ok: true;
      /** Decoded, non-empty segments; never `.`, `..`, or containing `/`, `\` or NUL. */
      readonly segments: readonly string[];
      /** The path ended with `/` (a directory request). */
      readonly trailingSlash: boolean;
    }
  | { readonly ok: false; readonly status: 400; readonly reason: string };

const MAX_PATH_BYTES = 8192;

/**
 * Splits and percent-decodes a raw request path exactly once. Rejects (400) traversal segments,
 * encoded separators, backslashes, NUL and malformed percent-encoding or UTF-8.
 */
export function decodeRequestPath(rawPath: string): DecodedPath {
  if (rawPath.length === 0 || rawPath[0] !== '/') return bad('the request target must start with "/"');
  if (rawPath.length > MAX_PATH_BYTES) return bad('the request path is too long');
  const segments: string[] = [];
  const parts = rawPath.split('/');
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i]!;
    if (part === '') continue;
    let segment: string;
    if (part.includes('%')) {
      try {
        segment = decodeURIComponent(part);
      } catch {
        return bad('malformed percent-encoding or UTF-8 in the path');
      }
    } else {
      segment = part;
    }
    if (segment === '.' || segment === '..') return bad('"." and ".." segments are not allowed');
    if (segment.includes('/')) return bad('encoded "/" in a path segment');
    if (segment.includes('\\')) return bad('backslash in the path');
    if (segment.includes('\0')) return bad('NUL in the path');
    segments.push(segment);
  }
  return { ok: true, segments, trailingSlash: rawPath.endsWith('/') };
}

function bad(reason: string): DecodedPath {
  return { ok: false, status: 400, reason };
}

/** True when a segment names a hidden (dot) file or directory. */
export function isHiddenSegment(segment: string): boolean {
  return segment.charCodeAt(0) === 0x2e;
}

/** Re-encodes segments into a path safe to put in a Location header (never `//host`). */
export function encodePath(segments: readonly string[], trailingSlash: boolean): string {
  let path = '';
  for (const segment of segments) path += `/${encodeURIComponent(segment)}`;
  return trailingSlash || segments.length === 0 ? `${path}/` : path;
}
