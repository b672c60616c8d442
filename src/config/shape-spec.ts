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

/**
 * The four parts of a shape, as given (undefined: not given). A `-` rate means no limit at that
 * level, a `-` burst one second of its rate; `name(i)` labels part i in messages.
 */
export interface ShapeParts {
  readonly serverRate?: string;
  readonly clientRate?: string;
  readonly serverBurst?: string;
  readonly clientBurst?: string;
}

/** Builds limits from parts, with the seed's defaults; messages name the part at fault. */
export function shapeFromParts(parts: ShapeParts, where: string, name: (part: keyof ShapeParts) => string, context = ''): ShapeLimits {
  const read = (part: keyof ShapeParts, kind: QuantityKind): number | undefined => {
    const text = parts[part];
    if (text === undefined || text.trim() === '-') return undefined;
    const parsed = parseQuantity(text, kind);
    if (!parsed.ok) throw new ConfigError(ConfigErrorCode.BadValue, where, `${name(part)} ${parsed.message}${context}`);
    return parsed.bytes;
  };
  const serverRate = read('serverRate', 'rate') ?? 0;
  const clientRate = parts.clientRate === undefined ? serverRate : (read('clientRate', 'rate') ?? 0);
  const serverBurst = read('serverBurst', 'size') ?? serverRate;
  const clientBurst = read('clientBurst', 'size') ?? clientRate;
  return { server: { rate: serverRate, burst: serverBurst }, client: { rate: clientRate, burst: clientBurst } };
}

const PART_KEYS: ReadonlyArray<keyof ShapeParts> = ['serverRate', 'clientRate', 'serverBurst', 'clientBurst'];

/** Parses a --shape value; `where` names the option for messages. */
export function parseShapeSpec(text: string, where: string): ShapeLimits {
  const values = text.split(',');
  if (values.length > 4) {
    throw new ConfigError(ConfigErrorCode.BadValue, where, `"${text}" has ${values.length} parts, expected at most 4: ${PARTS.join(',')}`);
  }
  const parts: Record<string, string> = {};
  values.forEach((value, i) => (parts[PART_KEYS[i]!] = value));
  return shapeFromParts(parts, where, (part) => PARTS[PART_KEYS.indexOf(part)]!, ` (in "${text}")`);
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
