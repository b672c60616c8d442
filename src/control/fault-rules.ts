/**
 * Fault injection rules, as the control plane takes them and the workers apply them: which
 * requests (a path pattern, a client, a share of them) and what happens to each (time added
 * before the first byte, a stall after some bytes, a cut after some bytes, a status instead of
 * the answer). Pure: parsing, checking and combining; the workers match paths and clients.
 */
import { parseQuantity } from '../config/rate-units.js';
import type { FaultPlan } from '../respond/response-faults.js';
import { compileGlob, PatternError } from './path-glob.js';

export type { FaultPlan } from '../respond/response-faults.js';

export interface FaultSpec {
  /** Pattern over the request path (path-glob.ts; without a `/` it matches the last segment). */
  readonly path: string | null;
  /** A client as the control plane names it (address or id:VALUE); null: every client. */
  readonly client: string | null;
  /** Share of the matching requests the rule takes, above 0 and up to 1. */
  readonly share: number;
  /** Milliseconds added before the response's first byte. */
  readonly ttfbMs: number;
  /** After this many body bytes the body stops for `stallMs`. */
  readonly stallAfter: number | null;
  readonly stallMs: number;
  /** After this many body bytes the connection is closed. */
  readonly cutAfter: number | null;
  /** Answer this status (and an error page) instead. */
  readonly status: number | null;
  /** Set by a profile (profiles replace their own rules only). */
  readonly profile: string | null;
}

export interface FaultRule extends FaultSpec {
  readonly id: number;
  readonly server: number;
}

export class FaultError extends Error {}

const MAX_MS = 3_600_000;
const EXAMPLE = '{"path": "/v2/*.ts", "client": "127.0.0.2", "stallAfter": "64kB", "stallMs": 3000}';

/** The rule described by the JSON object `input` (the API's body), checked field by field. */
export function parseFaultSpec(input: unknown): FaultSpec {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new FaultError(`expected an object, e.g. ${EXAMPLE}`);
  const fields = input as Record<string, unknown>;
  const known = new Set(['path', 'client', 'share', 'ttfbMs', 'stallAfter', 'stallMs', 'cutAfter', 'status']);
  for (const name of Object.keys(fields)) {
    if (!known.has(name)) throw new FaultError(`${name}: not a fault field (expected ${[...known].join(', ')})`);
  }
  const path = optionalText(fields['path'], 'path', 'a pattern over the request path such as "/v2/*.ts" or "*.m3u8"');
  if (path !== null) {
    try {
      compileGlob(path);
    } catch (error) {
      if (error instanceof PatternError) throw new FaultError(`path: ${error.message}`);
      throw error;
    }
  }
  const client = optionalText(fields['client'], 'client', 'a client address or id:VALUE');
  const share = fields['share'] ?? 1;
  if (typeof share !== 'number' || !(share > 0 && share <= 1)) throw new FaultError('share: expected a number above 0 and at most 1 (the share of matching requests)');
  const ttfbMs = milliseconds(fields['ttfbMs'], 'ttfbMs') ?? 0;
  const stallAfter = bytes(fields['stallAfter'], 'stallAfter');
  const stallMs = milliseconds(fields['stallMs'], 'stallMs');
  if ((stallAfter === null) !== (stallMs === null)) throw new FaultError('stallAfter and stallMs go together (stall after N bytes for M ms)');
  const cutAfter = bytes(fields['cutAfter'], 'cutAfter');
  const status = fields['status'] ?? null;
  if (status !== null && (typeof status !== 'number' || !Number.isInteger(status) || status < 400 || status > 599)) {
    throw new FaultError('status: expected an error status from 400 to 599 (e.g. 404, 503)');
  }
  const spec = { path, client, share, ttfbMs, stallAfter, stallMs: stallMs ?? 0, cutAfter, status: status as number | null, profile: null };
  if (ttfbMs === 0 && stallAfter === null && cutAfter === null && status === null) {
    throw new FaultError('a fault needs at least one of ttfbMs, stallAfter with stallMs, cutAfter, status');
  }
  return spec;
}

/** Combines the rules that drew a request: delays add up, the first stall and status count, the earliest cut. */
export function combineFaults(rules: readonly FaultSpec[]): FaultPlan | null {
  if (rules.length === 0) return null;
  let ttfbMs = 0;
  let stall: FaultSpec | undefined;
  let cutAfter: number | null = null;
  let status: number | null = null;
  for (const rule of rules) {
    ttfbMs += rule.ttfbMs;
    if (stall === undefined && rule.stallAfter !== null) stall = rule;
    if (rule.cutAfter !== null) cutAfter = cutAfter === null ? rule.cutAfter : Math.min(cutAfter, rule.cutAfter);
    status ??= rule.status;
  }
  return { ttfbMs: Math.min(ttfbMs, MAX_MS), stallAfter: stall?.stallAfter ?? null, stallMs: stall?.stallMs ?? 0, cutAfter, status };
}

function optionalText(value: unknown, field: string, expected: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new FaultError(`${field}: expected ${expected}`);
  return value;
}

function milliseconds(value: unknown, field: string): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_MS) throw new FaultError(`${field}: expected whole milliseconds from 0 to ${MAX_MS}`);
  return value;
}

function bytes(value: unknown, field: string): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value !== 'string') throw new FaultError(`${field}: expected a byte count such as 65536 or "64kB"`);
  const parsed = parseQuantity(value, 'size');
  if (!parsed.ok) throw new FaultError(`${field}: ${parsed.message}`);
  return parsed.bytes;
}
