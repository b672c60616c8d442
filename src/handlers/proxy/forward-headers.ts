/**
 * Which headers cross the proxy, both ways. Hop-by-hop headers (the fixed list and every name in
 * Connection) stop here; the upstream gets its own Host (as Twisted's ReverseProxyResource) and
 * the X-Forwarded-* trio; responses keep status, validators and caching headers, with URLs that
 * name the upstream translated. Pure.
 */
import { translateRefresh, translateUrl, type Translation } from './url-translation.js';

/** RFC 9110 7.6.1 and the historical ones still seen in the wild. */
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'trailers',
  'transfer-encoding',
  'upgrade',
]);

/** Request headers the proxy sets itself. */
const REPLACED_UP: ReadonlySet<string> = new Set(['host', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'expect']);

/** Response headers the respond layer sets itself (framing) or the proxy translates. */
const FRAMING_DOWN: ReadonlySet<string> = new Set(['content-length', 'date']);

/** Names listed in Connection headers: hop-by-hop for this message only. */
function connectionNames(values: readonly string[]): Set<string> {
  const names = new Set<string>();
  for (const value of values) for (const name of value.split(',')) names.add(name.trim().toLowerCase());
  return names;
}

export interface UpstreamRequestFacts {
  /** Every request header line, lower-case names, in order. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** The upstream's own Host value. */
  readonly upstreamHost: string;
  /** The peer's address as text. */
  readonly peer: string;
  /** The peer may forward for others: its X-Forwarded-* are kept (XFF is appended to). */
  readonly trusted: boolean;
  /** How the client reached us. */
  readonly scheme: 'http' | 'https';
  /** The Host the client asked for ('' when none). */
  readonly host: string;
}

/** Header lines for the upstream request, flat as undici takes them ([name, value, name, value...]). */
export function upstreamRequestHeaders(facts: UpstreamRequestFacts): string[] {
  const hop = connectionNames(facts.headers.filter(([name]) => name === 'connection').map(([, value]) => value));
  // A chunked upload goes up chunked: a Content-Length next to it would be a smuggling attempt.
  if (facts.headers.some(([name]) => name === 'transfer-encoding')) hop.add('content-length');
  const out: string[] = ['host', facts.upstreamHost];
  const forwardedFor: string[] = [];
  let forwardedHost: string | null = null;
  let forwardedProto: string | null = null;
  for (const [name, value] of facts.headers) {
    // RFC 7239's Forwarded says the same as X-Forwarded-*: only a trusted peer's goes on.
    if (name === 'forwarded' && !facts.trusted) continue;
    if (name === 'x-forwarded-for' && facts.trusted) forwardedFor.push(value);
    else if (name === 'x-forwarded-host' && facts.trusted) forwardedHost ??= value;
    else if (name === 'x-forwarded-proto' && facts.trusted) forwardedProto ??= value;
    if (HOP_BY_HOP.has(name) || hop.has(name) || REPLACED_UP.has(name)) continue;
    out.push(name, value);
  }
  forwardedFor.push(facts.peer);
  out.push('x-forwarded-for', forwardedFor.join(', '));
  const host = forwardedHost ?? facts.host;
  if (host !== '') out.push('x-forwarded-host', host);
  out.push('x-forwarded-proto', forwardedProto ?? facts.scheme);
  return out;
}

/** Response headers for the client: hop-by-hop and framing removed, upstream URLs translated. */
export function clientResponseHeaders(headers: Readonly<Record<string, string | string[] | undefined>>, translation: Translation): Array<readonly [string, string]> {
  const connection = headers['connection'];
  const hop = connectionNames(connection === undefined ? [] : Array.isArray(connection) ? connection : [connection]);
  const out: Array<readonly [string, string]> = [];
  for (const [name, raw] of Object.entries(headers)) {
    if (raw === undefined || HOP_BY_HOP.has(name) || hop.has(name) || FRAMING_DOWN.has(name)) continue;
    for (const value of Array.isArray(raw) ? raw : [raw]) {
      if (name === 'location' || name === 'content-location') out.push([name, translateUrl(value, translation)]);
      else if (name === 'refresh') out.push([name, translateRefresh(value, translation)]);
      else out.push([name, value]);
    }
  }
  return out;
}
