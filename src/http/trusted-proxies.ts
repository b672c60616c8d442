/**
 * Who may speak for a client (`--trust-proxy`): requests from these peers may name the real client
 * in `X-Forwarded-For` and pick a shaping bucket with `--client-id-header`; anyone else is taken
 * at its socket address, so no client can choose its own bucket. Pure: addresses are bytes as uWS
 * reports them (4 for IPv4, 16 for IPv6, 0 for a unix-socket peer).
 */
import ipaddr from 'ipaddr.js';

/** A trusted network: its first `bits` bits, as bytes of the address family. */
interface Network {
  readonly bytes: Uint8Array;
  readonly bits: number;
}

/** The compiled `--trust-proxy` list. */
export interface TrustList {
  readonly networks: readonly Network[];
  /** Unix-socket peers (no address) are trusted. */
  readonly unix: boolean;
}

export const TRUST_NOBODY: TrustList = Object.freeze({ networks: [], unix: false });

/** Keywords accepted besides addresses and CIDRs. */
const KEYWORDS: Readonly<Record<string, readonly string[]>> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  private: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
};

/** Parses one entry (an address, a CIDR, `loopback`, `private`, `linklocal` or `unix`); null if malformed. */
export function parseTrustEntry(text: string): TrustList | null {
  const entry = text.trim().toLowerCase();
  if (entry === 'unix') return { networks: [], unix: true };
  const cidrs = KEYWORDS[entry] ?? [entry.includes('/') ? entry : `${entry}/${entry.includes(':') ? 128 : 32}`];
  const networks: Network[] = [];
  for (const cidr of cidrs) {
    const [address = '', bits = ''] = cidr.split('/');
    if (!isPlainAddress(address) || !/^\d{1,3}$/.test(bits) || !ipaddr.isValidCIDR(cidr)) return null;
    const [parsed, prefix] = ipaddr.parseCIDR(cidr);
    const plain = parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress() ? (parsed as ipaddr.IPv6).toIPv4Address() : parsed;
    networks.push({ bytes: Uint8Array.from(plain.toByteArray()), bits: plain === parsed ? prefix : Math.max(0, prefix - 96) });
  }
  return { networks, unix: false };
}

/** Merges parsed entries into one list. */
export function mergeTrust(lists: readonly TrustList[]): TrustList {
  return { networks: lists.flatMap((list) => list.networks), unix: lists.some((list) => list.unix) };
}

/** True when the list trusts nobody at all. */
export function trustsNobody(trust: TrustList): boolean {
  return trust.networks.length === 0 && !trust.unix;
}

/** True when `peer` (4, 16 or 0 bytes; IPv4-mapped IPv6 counts as IPv4) is trusted. */
export function isTrusted(trust: TrustList, peer: Uint8Array): boolean {
  if (peer.length === 0) return trust.unix;
  const address = unmapped(peer);
  return trust.networks.some((network) => network.bytes.length === address.length && prefixMatches(network.bytes, address, network.bits));
}

/**
 * The client a request comes from: the peer itself, unless the peer is trusted and says, in
 * `X-Forwarded-For`, whom it forwards for. The list is walked from the right (the hop nearest to
 * us); trusted hops are skipped; the first untrusted one is the client. An entry that is not an
 * address ends the walk at the last hop that was.
 */
export function forwardedClient(trust: TrustList, peer: Uint8Array, forwardedFor: string): Uint8Array {
  if (forwardedFor === '' || !isTrusted(trust, peer)) return peer;
  const hops = forwardedFor.split(',');
  let client = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = parseHop(hops[i]!);
    if (hop === null) return client;
    client = hop;
    if (!isTrusted(trust, hop)) return hop;
  }
  return client;
}

/** One `X-Forwarded-For` entry as bytes (a bare address; `[v6]` and a port are tolerated). */
function parseHop(text: string): Uint8Array | null {
  let entry = text.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(entry);
  if (bracketed) entry = bracketed[1]!;
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(entry)) entry = entry.slice(0, entry.lastIndexOf(':'));
  if (!isPlainAddress(entry)) return null;
  return unmapped(Uint8Array.from(ipaddr.parse(entry).toByteArray()));
}

/** A dotted quad or an IPv6 address: not the legacy short forms (`1.2.3`, `0x7f.1`) ipaddr also reads. */
function isPlainAddress(text: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(text) || (text.includes(':') && ipaddr.IPv6.isValid(text));
}

function unmapped(address: Uint8Array): Uint8Array {
  if (address.length !== 16) return address;
  for (let i = 0; i < 10; i++) if (address[i] !== 0) return address;
  return address[10] === 0xff && address[11] === 0xff ? address.subarray(12) : address;
}

function prefixMatches(network: Uint8Array, address: Uint8Array, bits: number): boolean {
  let i = 0;
  for (; bits >= 8; bits -= 8, i++) if (network[i] !== address[i]) return false;
  if (bits === 0) return true;
  const mask = (0xff << (8 - bits)) & 0xff;
  return ((network[i]! ^ address[i]!) & mask) === 0;
}
