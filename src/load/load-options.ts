/**
 * The values of `mediacast load` options, parsed with messages that name the option: durations,
 * source address ranges, ABR and buffer settings, and `--fail-on` conditions. Pure.
 */
import { isIPv4 } from 'node:net';
import { CommandOptionError, parseDuration } from '../config/command-values.js';
import { DEFAULT_ABR, type AbrOptions } from './abr.js';
import type { LoadSummary } from './load-summary.js';
import { DEFAULT_BUFFER, type BufferOptions } from './playback-buffer.js';

export { parseDuration };

const bad = (option: string, message: string): never => {
  throw new CommandOptionError(`${option}: ${message}`);
};

/** `127.0.0.2-127.0.0.250` (or one address): the addresses in order. */
export function parseSourceRange(text: string, option: string): string[] {
  const [from = '', to = from] = text.split('-').map((part) => part.trim());
  if (!isIPv4(from) || !isIPv4(to)) bad(option, `"${text}" is not an IPv4 address range (expected e.g. 127.0.0.2-127.0.0.250)`);
  const value = (address: string): number => address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
  const first = value(from);
  const last = value(to);
  if (last < first) bad(option, `"${text}": the range ends before it starts`);
  if (last - first >= 1 << 20) bad(option, `"${text}": more than 1048576 addresses`);
  const addresses: string[] = [];
  for (let n = first; n <= last; n++) addresses.push([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.'));
  return addresses;
}

/** `--abr throughput` or `--abr buffer`, with parameters: `throughput:fast=3,slow=9,factor=0.95,up=0.7,start=500000`, `buffer:reservoir=5,cushion=10`. */
export function parseAbr(text: string, option: string): AbrOptions {
  const [rule = '', params = ''] = text.split(':');
  if (rule !== 'throughput' && rule !== 'buffer') bad(option, `"${rule}" is not an ABR rule (expected throughput or buffer)`);
  const keys: Record<string, keyof AbrOptions> =
    rule === 'throughput'
      ? { fast: 'fastHalfLife', slow: 'slowHalfLife', factor: 'bandwidthFactor', up: 'bandwidthUpFactor', start: 'defaultEstimate' }
      : { reservoir: 'reservoir', cushion: 'cushion' };
  const abr: Record<string, unknown> = { ...DEFAULT_ABR, rule };
  for (const [key, value] of keyValues(params, option)) {
    const field = keys[key];
    if (field === undefined) bad(option, `unknown parameter "${key}" for ${rule} (expected ${Object.keys(keys).join(', ')})`);
    abr[field!] = positive(value, option, key);
  }
  return abr as unknown as AbrOptions;
}

/** `--buffer startup=2,target=30,resume=2` (seconds). */
export function parseBuffer(text: string, option: string): BufferOptions {
  const buffer: Record<string, number> = { ...DEFAULT_BUFFER };
  for (const [key, value] of keyValues(text, option)) {
    if (!(key in DEFAULT_BUFFER)) bad(option, `unknown parameter "${key}" (expected startup, target, resume)`);
    buffer[key] = positive(value.replace(/s$/, ''), option, key);
  }
  if (buffer['startup']! > buffer['target']!) bad(option, 'startup is above target: playback could never start');
  if (buffer['resume']! > buffer['target']!) bad(option, 'resume is above target: playback could never resume after a stall');
  return buffer as unknown as BufferOptions;
}

function keyValues(text: string, option: string): Array<[string, string]> {
  if (text.trim() === '') return [];
  return text.split(',').map((pair) => {
    const [key = '', value] = pair.split('=').map((part) => part.trim());
    if (value === undefined || value === '') bad(option, `"${pair}" is not key=value`);
    return [key, value!];
  });
}

function positive(text: string, option: string, key: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) bad(option, `${key}=${text} is not a positive number`);
  return n;
}

/** One `--fail-on` condition: a figure of the summary, a comparison, a threshold. */
export interface FailCondition {
  readonly text: string;
  readonly figure: (summary: LoadSummary) => number;
  readonly op: '>' | '>=' | '<' | '<=';
  readonly threshold: number;
}

const FIGURES: Readonly<Record<string, (s: LoadSummary) => number>> = {
  stalls: (s) => s.stalls,
  'stalled-sessions': (s) => s.stalledSessions,
  'rebuffer-ratio': (s) => s.rebufferRatio,
  errors: (s) => s.errors,
  'failed-players': (s) => s.failedPlayers,
  'never-started': (s) => s.startup.neverStarted,
  'startup.p50': (s) => s.startup.p50,
  'startup.p95': (s) => s.startup.p95,
  'startup.p99': (s) => s.startup.p99,
  'startup.max': (s) => s.startup.max,
  bitrate: (s) => s.averageBitrate,
  'switches-per-minute': (s) => s.switchesPerMinute,
};

/** `stalls>0,startup.p95>2s`: startup figures take durations (a plain number is ms, as in the JSON report), bitrate bits/s. */
export function parseFailOn(text: string, option: string): FailCondition[] {
  return text.split(',').map((part) => {
    const match = /^\s*([a-z0-9.-]+)\s*(>=|<=|>|<)\s*(\S+)\s*$/.exec(part);
    if (!match) bad(option, `"${part}" is not a condition (expected e.g. stalls>0 or startup.p95>2s)`);
    const [, name, op, value] = match!;
    const figure = FIGURES[name!];
    if (figure === undefined) bad(option, `unknown figure "${name}" (expected ${Object.keys(FIGURES).join(', ')})`);
    const threshold = name!.startsWith('startup.') ? (/^\d+(\.\d+)?$/.test(value!) ? Number(value) : parseDuration(value!, option)) : Number(value);
    if (!Number.isFinite(threshold)) bad(option, `"${value}" is not a number`);
    return { text: part.trim(), figure: figure!, op: op as FailCondition['op'], threshold };
  });
}

/** The conditions that hold for `summary` (each one fails the run). */
export function failedConditions(conditions: readonly FailCondition[], summary: LoadSummary): FailCondition[] {
  return conditions.filter(({ figure, op, threshold }) => {
    const value = figure(summary);
    return op === '>' ? value > threshold : op === '>=' ? value >= threshold : op === '<' ? value < threshold : value <= threshold;
  });
}
