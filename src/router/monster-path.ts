/**
 * Twisted's VHostMonster: behind a front proxy that maps `/` to
 * `http://backend/PATH/http/public-name:80/`, the segments after PATH say which scheme, host and
 * port the client really used. They are removed from the path, and every URL the server makes
 * (redirects, proxied Location headers) names that public origin instead of this server.
 */
import { DEFAULT_PORT } from '../http/authority.js';
export interface PublicOrigin {
  readonly scheme: 'http' | 'https';
  /** Lower-case host name, IPv4 address or bracketed IPv6 address. */
  readonly hostname: string;
  /** `hostname` or `hostname:port` when the port is not the scheme's default. */
  readonly authority: string;
}

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const HOST = new RegExp(`^(?:${LABEL}(?:\\.${LABEL})*\\.?|\\[[0-9a-f:.]+\\])(?::(\\d{1,5}))?$`, 'i');

/**
 * Parses what follows the monster path: `/http/host[:port]/rest` or `/https/...`. Returns the
 * public origin and the rest of the path (`/` when none), or null when malformed. A port left out
 * is the scheme's default (Twisted assumes 80 even for https, which would make every redirect of
 * an https front proxy wrong).
 */
export function parseMonsterPath(after: string): { origin: PublicOrigin; path: string } | null {
  const match = /^\/(https?)\/([^/]+)(\/.*)?$/i.exec(after);
  if (match === null) return null;
  const scheme = match[1]!.toLowerCase() as 'http' | 'https';
  const host = match[2]!;
  const hostMatch = HOST.exec(host);
  if (hostMatch === null) return null;
  const portText = hostMatch[1];
  const port = portText === undefined ? DEFAULT_PORT[scheme] : Number(portText);
  if (port < 1 || port > 65535) return null;
  const hostname = (portText === undefined ? host : host.slice(0, -portText.length - 1)).toLowerCase().replace(/\.$/, '');
  // The hostname keeps its brackets (an IPv6 literal as typed): authority() would add them again.
  return { origin: { scheme, hostname, authority: port === DEFAULT_PORT[scheme] ? hostname : `${hostname}:${port}` }, path: match[3] ?? '/' };
}
