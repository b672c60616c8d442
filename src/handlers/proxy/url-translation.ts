/**
 * Internal URL translation: a redirect (or Content-Location, or Refresh) that names the upstream
 * is rewritten to name this server, so the client never learns of, or tries to reach, the origin
 * behind it. Pure: no sockets, no uWS.
 */
import { DEFAULT_PORT, type Scheme } from '../../http/authority.js';

/** Where the upstream's URLs map to on this server. */
export interface Translation {
  /** The upstream, `http:` or `https:`, host (lower-case, IPv6 in brackets) and port. */
  readonly upstreamScheme: 'http' | 'https';
  readonly upstreamHost: string;
  readonly upstreamPort: number;
  /** Path prefix on the upstream ('' or `/vod`). */
  readonly upstreamPath: string;
  /** How the client reached us: scheme and authority (host[:port]), or null when unknown. */
  readonly publicScheme: 'http' | 'https';
  readonly publicAuthority: string | null;
  /** The leaf on this server ('' or `/cdn`). */
  readonly mount: string;
}


/**
 * The client's view of `value`, a URL the upstream sent: absolute URLs of the upstream and
 * absolute paths, both under its path prefix, move to this server's leaf; anything else (other
 * hosts, relative references, paths outside the prefix) is left alone.
 */
export function translateUrl(value: string, t: Translation): string {
  const text = value.trim();
  let rest: string | null = null;
  if (text.startsWith('/') && !text.startsWith('//')) {
    rest = underPrefix(text, t.upstreamPath);
  } else if (/^https?:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return value;
    }
    const port = url.port === '' ? DEFAULT_PORT[url.protocol.slice(0, -1) as Scheme] : Number(url.port);
    if (url.protocol !== `${t.upstreamScheme}:` || url.hostname.toLowerCase() !== t.upstreamHost || port !== t.upstreamPort) return value;
    // What follows the authority, as sent (URL would re-encode it).
    const start = text.indexOf('//') + 2;
    const end = text.slice(start).search(/[/?#]/);
    const after = end < 0 ? '' : text.slice(start + end);
    rest = underPrefix(after.startsWith('/') ? after : `/${after}`, t.upstreamPath);
  }
  if (rest === null) return value;
  const path = `${t.mount}${rest}`;
  // `//host/...` (or `/\host`, which browsers read alike) would name another host: one slash.
  const local = path === '' || path.startsWith('?') || path.startsWith('#') ? `/${path}` : path.replace(/^[/\\\s]{2,}/, '/');
  return t.publicAuthority === null ? local : `${t.publicScheme}://${t.publicAuthority}${local}`;
}

/** A Refresh value (`5; url=/next`): its URL part translated. */
export function translateRefresh(value: string, t: Translation): string {
  const match = /^(\s*\d+(?:\.\d*)?\s*[;,]\s*(?:url\s*=\s*)?)(['"]?)(.*?)\2\s*$/i.exec(value);
  if (match === null || match[3] === '') return value;
  return `${match[1]}${match[2]}${translateUrl(match[3]!, t)}${match[2]}`;
}

/** The part of `path` after the upstream prefix, when it is under it; else null. */
function underPrefix(path: string, prefix: string): string | null {
  if (prefix === '') return path;
  if (!path.startsWith(prefix)) return null;
  const rest = path.slice(prefix.length);
  return rest === '' || rest.startsWith('/') || rest.startsWith('?') || rest.startsWith('#') ? rest : null;
}
