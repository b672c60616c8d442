/**
 * Which headers cross the proxy, both ways. Hop-by-hop headers (the fixed list and every name in
 * Connection) stop here; the upstream gets its own Host (as Twisted's ReverseProxyResource) and
 * the X-Forwarded-* trio; responses keep status, validators and caching headers, with URLs that
 * name the upstream translated. Pure.
 */
import { CORS_RESPONSE_HEADERS } from '../../http/cors.js';
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

/**
 * Headers in which a proxy tells its upstream about the client: believed from a trusted peer
 * only, dropped from anyone else (a client could otherwise pose as its own proxy).
 */
const FORWARDING: ReadonlySet<string> = new Set([
  'forwarded',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-forwarded-server',
  'x-forwarded-ssl',
  'x-forwarded-scheme',
  'x-forwarded-uri',
  'x-original-host',
  'x-original-url',
  'x-rewrite-url',
  'x-url-scheme',
  'front-end-https',
  'x-real-ip',
  'client-ip',
  'true-client-ip',
  'x-client-ip',
  'x-cluster-client-ip',
]);

/**
 * The CORS headers this server sends itself with --cors (http/cors.ts): the upstream's copies give
 * way (two Access-Control-Allow-Origin make browsers refuse a response); its preflight answers
 * (Allow-Methods, Allow-Headers, Max-Age) pass.
 */
const OWN_CORS: ReadonlySet<string> = new Set(CORS_RESPONSE_HEADERS.map(([name]) => name.toLowerCase()));

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
  /** Every request header line, flat: lower-case name, value, name, value... in order. */
  readonly headers: readonly string[];
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
  const lines = facts.headers;
  let hop: Set<string> | null = null;
  for (let i = 0; i < lines.length; i += 2) {
    if (lines[i] === 'connection') for (const name of connectionNames([lines[i + 1]!])) (hop ??= new Set()).add(name);
    // A chunked upload goes up chunked: a Content-Length next to it would be a smuggling attempt.
    else if (lines[i] === 'transfer-encoding') (hop ??= new Set()).add('content-length');
  }
  const out: string[] = ['host', facts.upstreamHost];
  let forwardedFor = '';
  let forwardedHost: string | null = null;
  let forwardedProto: string | null = null;
  for (let i = 0; i < lines.length; i += 2) {
    const name = lines[i]!;
    const value = lines[i + 1]!;
    if (!facts.trusted && FORWARDING.has(name)) continue;
    if (facts.trusted) {
      if (name === 'x-forwarded-for') forwardedFor += `${value}, `;
      else if (name === 'x-forwarded-host') forwardedHost ??= value;
      else if (name === 'x-forwarded-proto') forwardedProto ??= value;
    }
    if (HOP_BY_HOP.has(name) || REPLACED_UP.has(name) || hop?.has(name)) continue;
    out.push(name, value);
  }
  out.push('x-forwarded-for', forwardedFor + facts.peer);
  const host = forwardedHost ?? facts.host;
  if (host !== '') out.push('x-forwarded-host', host);
  out.push('x-forwarded-proto', forwardedProto ?? facts.scheme);
  return out;
}

/**
 * Response headers for the client: hop-by-hop and framing removed (and the upstream's CORS
 * headers when this server sends its own), upstream URLs translated.
 * Values with bytes above 0x7f are given as latin1 bytes (undici decoded them so; uWS would send
 * a string as UTF-8).
 */
export function clientResponseHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  translation: Translation,
  ownCors: boolean,
): Array<readonly [string, string | Buffer]> {
  const connection = headers['connection'];
  const hop = connection === undefined ? null : connectionNames(Array.isArray(connection) ? connection : [connection]);
  const out: Array<readonly [string, string | Buffer]> = [];
  for (const name in headers) {
    const raw = headers[name];
    if (raw === undefined || HOP_BY_HOP.has(name) || FRAMING_DOWN.has(name) || hop?.has(name)) continue;
    // Two Access-Control-Allow-Origin headers make browsers refuse the response.
    if (ownCors && OWN_CORS.has(name)) continue;
    if (typeof raw === 'string') out.push([name, downValue(name, raw, translation)]);
    else for (const value of raw) out.push([name, downValue(name, value, translation)]);
  }
  return out;
}

const NON_ASCII = /[^\x00-\x7f]/;

function downValue(name: string, value: string, translation: Translation): string | Buffer {
  const translated =
    name === 'location' || name === 'content-location' ? translateUrl(value, translation) : name === 'refresh' ? translateRefresh(value, translation) : value;
  return NON_ASCII.test(translated) ? Buffer.from(translated, 'latin1') : translated;
}
