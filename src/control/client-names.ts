/**
 * Clients as the control plane names them: an IPv4 or IPv6 address (an IPv6 one grouped by the
 * server's prefix, as its buckets are), or `id:VALUE` for a --client-id-header value; and the
 * names of the clients a table holds (an id is stored hashed: it shows as `id#` and its hash).
 * Pure.
 */
import ipaddr from 'ipaddr.js';
import { keyFromAddress, keyFromHeader, keyKind, type ClientKey } from '../shaping/client-key.js';

export class ClientNameError extends Error {}

/** The bucket key of `name` in a shaper seeded with `seed`. */
export function clientKeyOf(name: string, ipv6PrefixBits: number, seed: number): ClientKey {
  if (name.startsWith('id:')) {
    if (name.length === 3) throw new ClientNameError('"id:" needs the client id after it (id:VALUE)');
    return keyFromHeader(name.slice(3), seed);
  }
  // Four decimal parts or a real IPv6 address: not ipaddr's lenient forms (`127.1`, octal parts), which would name another client.
  if (!ipaddr.IPv4.isValidFourPartDecimal(name) && !(name.includes(':') && ipaddr.IPv6.isValid(name))) {
    throw new ClientNameError(`"${name}" is neither an IP address (a.b.c.d or IPv6) nor id:VALUE (a --client-id-header value)`);
  }
  return keyFromAddress(Uint8Array.from(ipaddr.parse(name).toByteArray()), ipv6PrefixBits, seed);
}

/**
 * One spelling per client, so that what is kept by name (schedules, profiles, fault rules) is
 * kept once: an IPv4-mapped IPv6 address as the IPv4 one, IPv6 in its compressed form, an id as
 * given. Throws ClientNameError as clientKeyOf does.
 */
export function canonicalClientName(name: string): string {
  clientKeyOf(name, 128, 0);
  if (name.startsWith('id:')) return name;
  const address = ipaddr.parse(name);
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) return (address as ipaddr.IPv6).toIPv4Address().toString();
  return address.toString();
}

/** How a client held in a table is shown: its address, `id#HASH`, or `local` (unix-socket peers). */
export function clientName(high: bigint, low: bigint, fingerprint: bigint): string {
  switch (keyKind(fingerprint)) {
    case 'ipv4':
      return ipaddr.fromByteArray(bytesOf(low & 0xffffffffn, 4)).toString();
    case 'ipv6':
      return ipaddr.fromByteArray([...bytesOf(high, 8), ...bytesOf(low, 8)]).toString();
    case 'header':
      return `id#${(high >> 32n).toString(16).padStart(8, '0')}`;
    case 'local':
      return 'local';
  }
}

function bytesOf(value: bigint, count: number): number[] {
  return Array.from({ length: count }, (_, i) => Number((value >> BigInt(8 * (count - 1 - i))) & 0xffn));
}
