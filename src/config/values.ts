/**
 * Checks of single configuration values, shared by the command line and the config file: each
 * returns the normalised value or throws a ConfigError naming `where` (an option with its
 * position, or a config key path) and the expected form.
 */
import { isAbsolute } from 'node:path';
import { ConfigError, ConfigErrorCode } from './errors.js';
import { parseTrustEntry } from '../http/trusted-proxies.js';
import { DEFAULT_BONJOUR_NAME, type AliasPlan, type RunAsPlan } from './plan.js';
import { parseQuantity } from './rate-units.js';

function bad(where: string, message: string): never {
  throw new ConfigError(ConfigErrorCode.BadValue, where, message);
}

export function checkNonEmpty(value: string, where: string, expected: string): string {
  if (value.trim() === '') bad(where, `empty value (expected ${expected})`);
  return value;
}

/** An index file name: a plain name, no directories. */
export function checkFileName(value: string, where: string): string {
  checkNonEmpty(value, where, 'a file name such as index.html');
  if (value.includes('/') || value.includes('\\') || value === '.' || value === '..' || isAbsolute(value)) {
    bad(where, `"${value}" is not a plain file name (expected e.g. index.html)`);
  }
  return value;
}

const MIME_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*(\s*;\s*[A-Za-z0-9_-]+=[A-Za-z0-9_.-]+)*$/;

export function checkMimeType(value: string, where: string): string {
  if (!MIME_TYPE.test(value)) bad(where, `"${value}" is not a media type (expected e.g. video/f4f)`);
  return value;
}

/** An extension for --ignore-ext, with or without its dot; stored without. */
export function checkExtension(value: string, where: string): string {
  const ext = value.startsWith('.') ? value.slice(1) : value;
  if (ext === '' || /[/\\\s]/.test(ext)) bad(where, `"${value}" is not a file extension (expected e.g. .m3u8)`);
  return ext;
}

export function parseInteger(value: string, where: string, min: number, max: number, expected: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) bad(where, `got "${value}", expected ${expected}`);
  return n;
}

/** Seconds (fractions allowed) up to an hour, as milliseconds. */
export function parseSeconds(value: string, where: string): number {
  const n = /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(n) || n > 3600) bad(where, `got "${value}", expected seconds from 0 to 3600`);
  return Math.round(n * 1000);
}

/** Path segments of an alias side: relative, no `.`/`..`, no empty value for the virtual side. */
function aliasSegments(text: string, where: string, side: string, allowEmpty: boolean): string[] {
  const segments = text.split('/').filter((s) => s !== '');
  if (segments.length === 0 && !allowEmpty) bad(where, `empty ${side} path (expected e.g. media,videos)`);
  for (const segment of segments) {
    if (segment === '.' || segment === '..' || segment.includes('\\') || segment.includes('\0')) {
      bad(where, `"${text}": the ${side} path must stay inside the root (no "." or ".." segments)`);
    }
  }
  return segments;
}

/** `virtual/path[,real/path]` (the seed's --alias); an empty real path means the root itself. */
export function parseAlias(value: string, where: string): AliasPlan {
  const comma = value.indexOf(',');
  const from = comma < 0 ? value : value.slice(0, comma);
  const to = comma < 0 ? '' : value.slice(comma + 1);
  if (to.includes(',')) bad(where, `"${value}" has more than one comma (expected virtual/path[,real/path])`);
  return { from: aliasSegments(from.trim(), where, 'virtual', false), to: aliasSegments(to.trim(), where, 'real', true) };
}

const HOST_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** A virtual host name: DNS labels (or an IP literal), case-insensitive, trailing dot ignored. */
export function parseHostname(value: string, where: string): string {
  const name = value.trim().toLowerCase().replace(/\.$/, '');
  const ipv6 = /^\[[0-9a-f:.]+\]$/.test(name);
  if (name === '' || name.length > 253 || (!ipv6 && !name.split('.').every((label) => HOST_LABEL.test(label)))) {
    bad(where, `"${value}" is not a host name (expected e.g. host.domain.tld)`);
  }
  return name;
}

/** A request header name, lower-cased. */
export function parseHeaderName(value: string, where: string): string {
  if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(value)) bad(where, `"${value}" is not a header name (expected e.g. X-Viewer-Id)`);
  return value.toLowerCase();
}

/** A bearer token: visible ASCII, at least 8 characters (RFC 6750's token68 and more). */
export function parseAdminToken(value: string, where: string): string {
  if (!/^[\x21-\x7e]{8,}$/.test(value)) bad(where, 'expected at least 8 visible ASCII characters (no spaces)');
  return value;
}

const ACCOUNT = /^(?:\d+|[a-z_][a-z0-9_.-]{0,31}\$?)$/i;

/** `USER[:GROUP]`, names or numeric ids. */
export function parseRunAs(value: string, where: string): RunAsPlan {
  const [user = '', group, extra] = value.split(':');
  if (extra !== undefined || !ACCOUNT.test(user) || (group !== undefined && !ACCOUNT.test(group))) {
    bad(where, `got "${value}", expected USER or USER:GROUP (names or numeric ids, e.g. www-data or 33:33)`);
  }
  return group === undefined ? { user } : { user, group };
}

/** `--trust-proxy` entries, comma-separated: addresses, CIDRs or keywords; returned normalised. */
export function parseTrustProxy(value: string, where: string): string[] {
  const entries = value.split(',').map((entry) => entry.trim().toLowerCase());
  for (const entry of entries) {
    if (parseTrustEntry(entry) === null) {
      bad(where, `"${entry}" is not an address, a CIDR (10.0.0.0/8, fd00::/8) or one of loopback, private, linklocal, unix`);
    }
  }
  return entries;
}

/** A request head size for --max-header-size: bytes, with units, 1 KiB to 1 MiB. */
export function parseHeaderSize(value: string, where: string): number {
  const parsed = parseQuantity(value, 'size');
  if (!parsed.ok) bad(where, parsed.message);
  if (parsed.bytes < 1024 || parsed.bytes > 1024 * 1024) bad(where, `got "${value}", expected a size from 1KiB to 1MiB (e.g. 16KiB)`);
  return parsed.bytes;
}

/**
 * A Bonjour instance name: `-` for the default, else text with at most one `%s` (computer name)
 * and one `%d` (port); 63 bytes at most once filled, as DNS labels are.
 */
export function parseBonjourName(value: string, where: string): string {
  if (value === '-') return DEFAULT_BONJOUR_NAME;
  if (value.trim() === '') bad(where, 'empty name (expected e.g. "Lab server on %d", or - for the default)');
  const placeholders = value.match(/%./g) ?? [];
  if (placeholders.some((p) => p !== '%s' && p !== '%d' && p !== '%%') || placeholders.filter((p) => p === '%s').length > 1 || placeholders.filter((p) => p === '%d').length > 1) {
    bad(where, `"${value}": only %s (the computer name), %d (the port) and %% may appear, each once`);
  }
  if (/[\x00-\x1f]/.test(value)) bad(where, `"${value}" holds a control character`);
  return value;
}

/** An interface name for --bonjour-interface. */
export function parseInterfaceName(value: string, where: string): string {
  if (!/^[A-Za-z0-9_.:@-]{1,32}$/.test(value)) bad(where, `"${value}" is not an interface name (expected e.g. eth0)`);
  return value;
}

export function parseShapeBy(value: string, where: string): 'ip' | 'connection' {
  if (value !== 'ip' && value !== 'connection') bad(where, `got "${value}", expected ip or connection`);
  return value;
}

export function parseTableSize(value: string, where: string): number {
  const size = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(size) || size < 16 || size > 1 << 24 || (size & (size - 1)) !== 0) {
    bad(where, `got "${value}", expected a power of two from 16 to 16777216`);
  }
  return size;
}
