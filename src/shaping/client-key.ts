/**
 * Who a client is, for the per-client bucket: its IP address (an IPv4-mapped IPv6 address counts
 * as the IPv4 one; IPv6 optionally grouped by prefix), or the value of a request header chosen by
 * the operator. A key is 128 bits of identity plus a 47-bit fingerprint (exact for IPv4) and a
 * 32-bit hash that picks the home slot in the table. The hashes take a seed drawn per process, so
 * a client cannot work out addresses or header values that pile onto one part of the table.
 */

export interface ClientKey {
  readonly high: bigint;
  readonly low: bigint;
  /** Nonzero, below 2^47: stored in the slot's state word next to the flow count. */
  readonly fingerprint: bigint;
  /** Home slot hash (unsigned 32-bit). */
  readonly home: number;
}

const KIND_IPV4 = 1n;
const KIND_IPV6 = 2n;
const KIND_HEADER = 3n;
const KIND_LOCAL = 4n;
const KIND_SHIFT = 44n;
const FINGERPRINT_BODY = (1n << KIND_SHIFT) - 1n;

/**
 * The key of a remote address as uWS reports it (4 bytes for IPv4, 16 for IPv6), with IPv6
 * addresses reduced to their first `ipv6PrefixBits` bits.
 */
export function keyFromAddress(address: ArrayBuffer | Uint8Array, ipv6PrefixBits = 128, seed = 0): ClientKey {
  const bytes = address instanceof Uint8Array ? address : new Uint8Array(address);
  if (bytes.length === 4) return ipv4Key(readUint32(bytes, 0), seed);
  if (bytes.length === 0) return LOCAL_KEY;
  if (bytes.length !== 16) throw new Error(`unexpected address length ${bytes.length}`);
  if (isV4Mapped(bytes)) return ipv4Key(readUint32(bytes, 12), seed);
  const words = [readUint32(bytes, 0), readUint32(bytes, 4), readUint32(bytes, 8), readUint32(bytes, 12)];
  for (let i = 0; i < 4; i++) words[i] = maskWord(words[i]!, ipv6PrefixBits - i * 32);
  const high = (BigInt(words[0]!) << 32n) | BigInt(words[1]!);
  const low = (BigInt(words[2]!) << 32n) | BigInt(words[3]!);
  const h1 = mix(words[0]!, words[1]!, words[2]!, words[3]!, 0x9e3779b9 ^ seed);
  const h2 = mix(words[0]!, words[1]!, words[2]!, words[3]!, 0x85ebca6b ^ seed);
  return { high, low, fingerprint: tagged(KIND_IPV6, h1, h2), home: h1 };
}

/**
 * The part of an address that tells clients apart: IPv4 (an IPv4-mapped IPv6 address too) whole,
 * IPv6 its first `ipv6PrefixBits` bits (the rest zeroed), as the per-client buckets see it.
 */
export function addressPrefix(address: Uint8Array, ipv6PrefixBits: number): Uint8Array {
  if (address.length !== 16) return address;
  if (isV4Mapped(address)) return address.subarray(12);
  const masked = Uint8Array.from(address);
  for (let i = 0; i < 16; i++) {
    const bits = Math.max(0, Math.min(8, ipv6PrefixBits - i * 8));
    masked[i]! &= (0xff << (8 - bits)) & 0xff;
  }
  return masked;
}

/** The key of a client identified by a request header value (test rigs simulating viewers). */
export function keyFromHeader(value: string, seed = 0): ClientKey {
  const words = [0x1b873593, 0xcc9e2d51, 0x27d4eb2f, 0x165667b1].map((constant) => hashString(value, constant ^ seed));
  const high = (BigInt(words[0]!) << 32n) | BigInt(words[1]!);
  const low = (BigInt(words[2]!) << 32n) | BigInt(words[3]!);
  return { high, low, fingerprint: tagged(KIND_HEADER, words[0]!, words[1]!), home: words[2]! };
}

/** What kind of client a fingerprint (kept in a slot's state word) stands for. */
export function keyKind(fingerprint: bigint): 'ipv4' | 'ipv6' | 'header' | 'local' {
  const kind = fingerprint >> KIND_SHIFT;
  return kind === KIND_IPV4 ? 'ipv4' : kind === KIND_IPV6 ? 'ipv6' : kind === KIND_HEADER ? 'header' : 'local';
}

/** Peers on a unix socket have no address: they are one local client. */
const LOCAL_KEY: ClientKey = Object.freeze({ high: 0n, low: 0n, fingerprint: KIND_LOCAL << KIND_SHIFT, home: 0x5bd1e995 });

function ipv4Key(ipv4: number, seed: number): ClientKey {
  return {
    high: 0n,
    low: 0xffff00000000n | BigInt(ipv4),
    // Exact for IPv4: no two addresses share a fingerprint.
    fingerprint: (KIND_IPV4 << KIND_SHIFT) | BigInt(ipv4),
    home: mix(ipv4, 0, 0, 0, 0x9e3779b9 ^ seed),
  };
}

function tagged(kind: bigint, h1: number, h2: number): bigint {
  return (kind << KIND_SHIFT) | (((BigInt(h1) << 32n) | BigInt(h2)) & FINGERPRINT_BODY);
}

function isV4Mapped(bytes: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

function readUint32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
}

/** Keeps the first `bits` bits of a 32-bit word (all when bits >= 32, none when <= 0). */
function maskWord(word: number, bits: number): number {
  if (bits >= 32) return word;
  if (bits <= 0) return 0;
  return (word & (0xffffffff << (32 - bits))) >>> 0;
}

/** A 32-bit mix of four words (murmur3-style finalisation). */
function mix(a: number, b: number, c: number, d: number, seed: number): number {
  let h = seed >>> 0;
  for (const word of [a, b, c, d]) {
    h = Math.imul(h ^ word, 0xcc9e2d51);
    h = ((h << 15) | (h >>> 17)) >>> 0;
    h = Math.imul(h, 0x1b873593);
  }
  return fmix(h);
}

function hashString(text: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 0x5bd1e995);
    h ^= h >>> 15;
  }
  return fmix(Math.imul(h ^ text.length, 0x27d4eb2f));
}

function fmix(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
