/**
 * Rates and sizes with explicit units, as `--shape` takes them. A plain number is bytes (per
 * second for rates), as in the seed. Streaming people think in bits, web-server people in bytes
 * with k = 1024, so every multiplier is spelled out: kB/MB/GB are SI bytes, KiB/MiB/GiB are IEC
 * bytes, kbit/Mbit/Gbit (and kbps/Mbps/Gbps) are bits. A bare k/M/G is ambiguous and refused.
 */

/** Bytes per unit. Case matters for bytes vs bits (B vs b); bit units also accept any case. */
const BYTE_UNITS: ReadonlyMap<string, number> = new Map([
  ['B', 1],
  ['kB', 1e3],
  ['KB', 1e3],
  ['MB', 1e6],
  ['GB', 1e9],
  ['TB', 1e12],
  ['KiB', 1024],
  ['kiB', 1024],
  ['MiB', 1024 ** 2],
  ['GiB', 1024 ** 3],
  ['TiB', 1024 ** 4],
]);

const BIT_UNITS: ReadonlyMap<string, number> = new Map([
  ['bit', 1 / 8],
  ['kbit', 1e3 / 8],
  ['mbit', 1e6 / 8],
  ['gbit', 1e9 / 8],
  ['bps', 1 / 8],
  ['kbps', 1e3 / 8],
  ['mbps', 1e6 / 8],
  ['gbps', 1e9 / 8],
]);

const AMBIGUOUS = /^[kKmMgGtT]$/;
const QUANTITY = /^(\d+(?:\.\d+)?)\s*([A-Za-z]*)(\/s)?$/;

export type QuantityKind = 'rate' | 'size';

/** Outcome of parsing one quantity: a number of bytes (per second), or a message. */
export type ParsedQuantity = { readonly ok: true; readonly bytes: number } | { readonly ok: false; readonly message: string };

/**
 * Parses `500kB`, `4Mbit/s`, `1.5MiB`, `250000`... into bytes (per second for rates), rounded to a
 * whole number. `/s` is accepted for rates only.
 */
export function parseQuantity(text: string, kind: QuantityKind): ParsedQuantity {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, message: 'is empty' };
  if (trimmed.startsWith('-')) return { ok: false, message: `"${trimmed}" is negative` };
  const match = QUANTITY.exec(trimmed);
  if (!match) return { ok: false, message: `"${trimmed}" is not a number with an optional unit` };
  const [, digits, unit = '', perSecond] = match as unknown as [string, string, string | undefined, string | undefined];
  if (perSecond && kind === 'size') return { ok: false, message: `"${trimmed}" is a rate; a burst is a size (drop "/s")` };
  const value = Number(digits);
  if (AMBIGUOUS.test(unit)) {
    const n = digits;
    const k = unit.toLowerCase() === 'k' ? 1 : unit.toLowerCase() === 'm' ? 2 : unit.toLowerCase() === 'g' ? 3 : 4;
    const si = value * 1000 ** k;
    const iec = value * 1024 ** k;
    const prefix = ['k', 'M', 'G', 'T'][k - 1]!;
    const iecPrefix = ['Ki', 'Mi', 'Gi', 'Ti'][k - 1]!;
    const per = kind === 'rate' ? 'B/s' : 'B';
    return {
      ok: false,
      message:
        `"${trimmed}" is ambiguous: write ${n}${prefix}B (${formatInteger(si)} ${per}), ` +
        `${n}${iecPrefix}B (${formatInteger(iec)} ${per}) or ${n}${prefix}bit (${formatInteger(si / 8)} ${per})`,
    };
  }
  const factor = unit === '' ? 1 : (BYTE_UNITS.get(unit) ?? BIT_UNITS.get(unit.toLowerCase()));
  if (factor === undefined) {
    return { ok: false, message: `unknown unit "${unit}" in "${trimmed}" (use B, kB, MB, GB, KiB, MiB, GiB, kbit, Mbit, Gbit, kbps, Mbps or Gbps)` };
  }
  const bytes = Math.round(value * factor);
  if (!Number.isSafeInteger(bytes)) return { ok: false, message: `"${trimmed}" is too large` };
  // 0 means "no limit": a tiny rate must not silently become none.
  if (bytes === 0 && value > 0) {
    return { ok: false, message: `"${trimmed}" is less than 1 ${kind === 'rate' ? 'B/s' : 'B'}, the smallest ${kind === 'rate' ? 'rate' : 'size'} (0 means no limit)` };
  }
  return { ok: true, bytes };
}

/** `1,234,567` */
export function formatInteger(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** `500,000 B/s = 4.000 Mbit/s` */
export function describeRate(bytesPerSecond: number): string {
  const bits = bytesPerSecond * 8;
  const [value, unit] =
    bits >= 1e9 ? [bits / 1e9, 'Gbit/s'] : bits >= 1e6 ? [bits / 1e6, 'Mbit/s'] : bits >= 1e3 ? [bits / 1e3, 'kbit/s'] : [bits, 'bit/s'];
  return `${formatInteger(bytesPerSecond)} B/s = ${value.toFixed(3)} ${unit}`;
}
