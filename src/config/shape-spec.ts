/**
 * The `--shape` value: `server-rate[,client-rate[,server-burst[,client-burst]]]`, as in the seed.
 * Rates in bytes per second, bursts in bytes, each with optional units (see rate-units.ts).
 * `0` or `-` for a rate means no limit at that level; `-` (or nothing) for a burst means one
 * second's worth of its rate. The client rate defaults to the server rate.
 */
import { ConfigError, ConfigErrorCode } from './errors.js';
import { describeRate, formatInteger, parseQuantity, type QuantityKind } from './rate-units.js';

/** Bucket settings of one level. `rate` 0 means unlimited. */
export interface BucketSpec {
  /** Bytes per second; 0 = no limit. */
  readonly rate: number;
  /** Bytes that may go out at once after an idle period. */
  readonly burst: number;
}

export interface ShapeLimits {
  readonly server: BucketSpec;
  readonly client: BucketSpec;
}

const PARTS = ['server-rate', 'client-rate', 'server-burst', 'client-burst'] as const;

/** Parses a --shape value; `where` names the option for messages. */
export function parseShapeSpec(text: string, where: string): ShapeLimits {
  const parts = text.split(',');
  if (parts.length > 4) {
    throw new ConfigError(ConfigErrorCode.BadValue, where, `"${text}" has ${parts.length} parts, expected at most 4: ${PARTS.join(',')}`);
  }
  const read = (index: number, kind: QuantityKind): number | undefined => {
    const part = parts[index];
    if (part === undefined) return undefined;
    const trimmed = part.trim();
    if (trimmed === '-') return undefined;
    const parsed = parseQuantity(trimmed, kind);
    if (!parsed.ok) {
      throw new ConfigError(ConfigErrorCode.BadValue, where, `${PARTS[index]} ${parsed.message} (in "${text}")`);
    }
    return parsed.bytes;
  };
  const serverRate = read(0, 'rate') ?? 0;
  const clientRate = parts[1] === undefined ? serverRate : (read(1, 'rate') ?? 0);
  const serverBurst = read(2, 'size') ?? serverRate;
  const clientBurst = read(3, 'size') ?? clientRate;
  return { server: { rate: serverRate, burst: serverBurst }, client: { rate: clientRate, burst: clientBurst } };
}

/** True when neither level limits anything. */
export function isUnlimited(limits: ShapeLimits): boolean {
  return limits.server.rate === 0 && limits.client.rate === 0;
}

/** `client limit: 500,000 B/s = 4.000 Mbit/s, burst 500,000 B` (or `no client limit`). */
export function describeLevel(name: string, spec: BucketSpec): string {
  if (spec.rate === 0) return `no ${name} limit`;
  return `${name} limit: ${describeRate(spec.rate)}, burst ${formatInteger(spec.burst)} B`;
}
