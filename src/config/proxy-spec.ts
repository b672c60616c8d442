/**
 * `--reverse host[,port[,path/to/proxy[,path/on/this/server]]]` (the seed's form) or
 * `--reverse URL[,,,path/on/this/server]`, and `--monster PATH`: parsed and checked here, with
 * messages that say which part is wrong.
 */
import { isIP } from 'node:net';
import { ConfigError, ConfigErrorCode } from './errors.js';
import type { UpstreamPlan } from './plan.js';
import { parseSeconds } from './values.js';
import { authority, bracketHost, DEFAULT_PORT } from '../http/authority.js';

/** An upstream as given, before the plan numbers it. */
export type UpstreamSpec = Omit<UpstreamPlan, 'id'>;

export interface ReverseSpec {
  readonly upstream: UpstreamSpec;
  /** '' (every request of the server or virtual host) or `/path/on/this/server`. */
  readonly mount: string;
}

const HOST_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
/** Characters a path segment may hold unencoded, so a raw request path compares as given. */
const SEGMENT = /^[A-Za-z0-9._~!$&'()*+;=:@%-]+$/;
/** `.` or `..`, also percent-encoded; and encoded slashes, which would change the segments. */
const DOTS = /^(?:\.|%2e){1,2}$/i;
const ENCODED_SLASH = /%2f|%5c/i;

function bad(where: string, message: string): never {
  throw new ConfigError(ConfigErrorCode.BadValue, where, message);
}

export function parseReverse(value: string, where: string): ReverseSpec {
  const parts = value.split(',');
  if (parts.length > 4) bad(where, `"${value}" has ${parts.length} comma-separated parts (expected host[,port[,path/to/proxy[,path/on/this/server]]])`);
  const [first = '', portText = '', pathText = '', mountText = ''] = parts.map((part) => part.trim());
  const mount = pathSegments(mountText, where, 'the path on this server');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(first)) {
    if (portText !== '' || pathText !== '') bad(where, `"${value}": the URL already gives the port and path (use URL,,,path/on/this/server)`);
    return { upstream: fromUrl(first, where), mount };
  }
  const host = upstreamHost(first, where);
  const port = portText === '' ? DEFAULT_PORT.http : portNumber(portText, where);
  return { upstream: { scheme: 'http', host, port, path: pathSegments(pathText, where, 'the upstream path') }, mount };
}

function fromUrl(text: string, where: string): UpstreamSpec {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    bad(where, `"${text}" is not a URL (expected e.g. https://cdn.example.com/vod)`);
  }
  const scheme = url.protocol.slice(0, -1);
  if (scheme !== 'http' && scheme !== 'https') bad(where, `"${text}": only http and https upstreams are proxied`);
  if (url.username !== '' || url.password !== '') bad(where, `"${text}": credentials in the URL are not supported`);
  if (url.search !== '' || url.hash !== '') bad(where, `"${text}": an upstream URL takes no query or fragment`);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port === '' ? DEFAULT_PORT[scheme] : portNumber(url.port, where);
  return { scheme, host, port, path: pathSegments(url.pathname, where, 'the upstream path') };
}

function upstreamHost(text: string, where: string): string {
  const host = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (host.includes('%')) bad(where, `"${text}": a zone index (%) cannot be proxied to; give a routable address`);
  if (isIP(host) !== 0) return host;
  const name = host.toLowerCase().replace(/\.$/, '');
  if (name === '' || name.length > 253 || !name.split('.').every((label) => HOST_LABEL.test(label))) {
    bad(where, `"${text}" is not a host name or address (expected e.g. origin.example.com or 10.0.0.5)`);
  }
  return name;
}

function portNumber(text: string, where: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535)) bad(where, `port "${text}" is not a port number from 1 to 65535`);
  return port;
}

/** `a/b` (slashes around are dropped) as `/a/b`, or '' when empty. */
function pathSegments(text: string, where: string, what: string): string {
  const segments = text.split('/').filter((segment) => segment !== '');
  for (const segment of segments) {
    if (DOTS.test(segment) || ENCODED_SLASH.test(segment) || !SEGMENT.test(segment)) {
      bad(where, `${what} "${text}" must be plain path segments (letters, digits, -._~ and the like; no "." or "..")`);
    }
  }
  return segments.length === 0 ? '' : `/${segments.join('/')}`;
}

/** `--proxy-timeout`: seconds, not 0 (every request would fail). */
export function parseProxyTimeout(value: string, where: string): number {
  const ms = parseSeconds(value, where);
  if (ms === 0) bad(where, 'a timeout of 0 s would fail every request (expected seconds from 0.001 to 3600)');
  return ms;
}

/** `--monster PATH`: one or more plain segments, as `/PATH`. */
export function parseMonster(value: string, where: string): string {
  const path = pathSegments(value.trim(), where, 'the vhost monster path');
  if (path === '') bad(where, 'the vhost monster path is empty (expected e.g. vhm)');
  return path;
}

/** The `--reverse` value that gives this upstream and mount back (URL form). */
export function describeReverse(upstream: UpstreamSpec, mount: string): string {
  const url = `${upstream.scheme}://${authority(upstream.scheme, upstream.host, upstream.port)}${upstream.path}`;
  return mount === '' ? url : `${url},,,${mount.slice(1)}`;
}

/** The upstream's origin, `http://host:port`, for messages and the registry. */
export function upstreamOrigin(upstream: UpstreamSpec): string {
  return `${upstream.scheme}://${bracketHost(upstream.host)}:${upstream.port}`;
}
