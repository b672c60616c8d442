/**
 * What a server says of itself over Bonjour/mDNS: instance names filled in (the original's
 * `%s` = computer name, `%d` = port), the service type, TXT records a test rig can read before it
 * starts (path, virtual hosts, version, the limits in force), and which local addresses may be
 * advertised at all (never loopback, IPv4-mapped or link-local-only ones). Pure.
 */
import type { NetworkInterfaceInfo } from 'node:os';
import type { ServerPlan } from '../config/plan.js';

/** One service to advertise. */
export interface Advertisement {
  readonly name: string;
  readonly type: 'http' | 'https';
  readonly port: number;
  readonly txt: Readonly<Record<string, string>>;
  /** The one address the server listens on, when it listens on one (else: every usable address). */
  readonly address: string | null;
}

/**
 * A DNS label holds 63 bytes: longer names are cut (on a character boundary), leaving room for the
 * " (2)" a name conflict adds.
 */
const MAX_NAME_BYTES = 63 - ' (99)'.length;
/** One TXT string holds 255 bytes, key and "=" included. */
const MAX_TXT_BYTES = 255;

/** `template` with %s, %d and %% filled, cut to what a DNS label holds. */
export function fillName(template: string, computer: string, port: number): string {
  const filled = template.replace(/%([sd%])/g, (_, p: string) => (p === 's' ? computer : p === 'd' ? String(port) : '%'));
  let name = '';
  for (const ch of filled) {
    if (Buffer.byteLength(name + ch) > MAX_NAME_BYTES) break;
    name += ch;
  }
  return name;
}

/** The TXT record of a server: strings of at most 255 bytes (a long virtual host list is cut). */
export function txtRecord(server: ServerPlan, version: string): Record<string, string> {
  const txt: Record<string, string> = { txtvers: '1', path: '/', version: `mediacast/${version}` };
  if (server.vhosts.length > 0) txt['vhosts'] = cut('vhosts', server.vhosts.map((vhost) => vhost.hostname).join(','));
  const shape = server.shape;
  // Bytes per second, 0 for no limit: what a rig is about to test against.
  txt['rate'] = String(shape?.limits.server.rate ?? 0);
  txt['client-rate'] = String(shape?.limits.client.rate ?? 0);
  if (shape) {
    txt['burst'] = String(shape.limits.server.burst);
    txt['client-burst'] = String(shape.limits.client.burst);
    txt['shape-by'] = shape.by;
  }
  return txt;
}

/** The services of one server: one per name; none for a unix socket or a loopback-only listener. */
export function advertisementsOf(server: ServerPlan, computer: string, version: string): Advertisement[] {
  const listen = server.listen;
  if (listen.kind === 'unix' || server.bonjour.length === 0) return [];
  // Bound to one address that must not be advertised (loopback, link-local, mapped): nothing to say.
  if (listen.host !== undefined && isAddress(listen.host) && !isWildcard(listen.host) && !advertisable(listen.host)) return [];
  if (listen.host !== undefined && isLoopback(listen.host.toLowerCase())) return [];
  const txt = txtRecord(server, version);
  return server.bonjour.map((template) => ({
    name: fillName(template, computer, listen.port),
    type: listen.kind === 'ssl' ? 'https' : 'http',
    port: listen.port,
    txt,
    address: listen.host !== undefined && isAddress(listen.host) && !isWildcard(listen.host) ? listen.host.toLowerCase() : null,
  }));
}

/** An interface mDNS may speak on, with the addresses it may advertise there. */
export interface UsableInterface {
  readonly name: string;
  readonly addresses: readonly string[];
}

/**
 * The interfaces to advertise on (only those named in `allowed`, when any are), each with its
 * advertisable addresses: IPv4 other than loopback, IPv6 other than loopback, link-local and
 * IPv4-mapped. An interface left with none is left out.
 */
export function usableInterfaces(interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>, allowed: readonly string[]): UsableInterface[] {
  const usable: UsableInterface[] = [];
  for (const [name, infos = []] of Object.entries(interfaces)) {
    if (allowed.length > 0 && !allowed.includes(name)) continue;
    const addresses = infos.filter((info) => !info.internal && advertisable(info.address)).map((info) => info.address);
    if (addresses.length > 0) usable.push({ name, addresses });
  }
  return usable;
}

/** Not loopback, not link-local (fe80::/10, 169.254/16), not IPv4-mapped, not a wildcard, no zone. */
function advertisable(address: string): boolean {
  const lower = address.toLowerCase();
  return !isLoopback(lower) && !/^fe[89ab]/.test(lower) && !/^169\.254\./.test(lower) && !lower.startsWith('::ffff:') && !lower.includes('%') && !isWildcard(lower);
}

function isLoopback(host: string): boolean {
  return /^127\./.test(host) || host === '::1' || /^localhost(\.|$)/.test(host) || host === 'ip6-localhost';
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || /^[0:]+$/.test(host);
}

function isAddress(host: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+$/.test(host) || host.includes(':');
}

function cut(key: string, value: string): string {
  let out = value;
  while (Buffer.byteLength(`${key}=${out}`) > MAX_TXT_BYTES) out = out.slice(0, -1);
  return out;
}
