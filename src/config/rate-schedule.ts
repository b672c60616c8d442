/**
 * Rate schedules for the control plane: the limit of a server or a client as a function of time.
 * Written as steps and ramps (`0s:4Mbit,30s:1Mbit,60s~4Mbit`: `T:RATE` holds RATE from T on,
 * `T~RATE` ramps linearly from the point before to RATE at T), or read from a network trace:
 * mahimahi (a line per 1500-byte delivery opportunity, its millisecond), `time_s Mbit/s` lines
 * (the FCC and Norway HSDPA sets as ABR research uses them), or Sabre's JSON (`duration_ms`,
 * `bandwidth_kbps`, `latency_ms`; latency is not applied). Pure.
 */
import { parseQuantity } from './rate-units.js';

/** A piece of a schedule: from `at` ms on, the rate goes linearly from `from` to `to` bytes/s by `until`. */
export interface ScheduleSegment {
  readonly at: number;
  readonly until: number;
  readonly from: number;
  readonly to: number;
}

export interface RateSchedule {
  readonly segments: readonly ScheduleSegment[];
  /** Its length in ms: a looping schedule starts over then; a once schedule holds its last rate. */
  readonly lengthMs: number;
  readonly format: 'steps' | 'mahimahi' | 'mbps' | 'sabre';
}

export class ScheduleError extends Error {}

/** Mahimahi delivery opportunities are counted per bin of this many ms. */
const MAHIMAHI_BIN_MS = 100;
const MAHIMAHI_PACKET_BYTES = 1500;
/** Longest schedule accepted (a day) and most segments (a day of 100-ms bins is 864,000). */
const MAX_LENGTH_MS = 24 * 3_600_000;
const MAX_SEGMENTS = 1_000_000;
/** The highest rate a schedule may name (a terabyte a second: what the shared words hold, with room). */
export const MAX_SCHEDULE_RATE = 1e12;

/** The rate (bytes/s) `elapsedMs` after the schedule started. */
export function rateAt(schedule: RateSchedule, elapsedMs: number, loop: boolean): number {
  const { segments, lengthMs } = schedule;
  const t = loop && lengthMs > 0 ? elapsedMs % lengthMs : Math.min(elapsedMs, lengthMs);
  // Binary search: the last segment starting at or before t.
  let low = 0;
  let high = segments.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (segments[middle]!.at <= t) low = middle;
    else high = middle - 1;
  }
  const segment = segments[low]!;
  if (segment.until <= segment.at || segment.from === segment.to) return segment.to;
  const share = Math.min(1, Math.max(0, (t - segment.at) / (segment.until - segment.at)));
  return Math.round(segment.from + (segment.to - segment.from) * share);
}

/** A schedule from its text: steps and ramps, or a trace file's content (the format is recognised). */
export function parseSchedule(text: string): RateSchedule {
  const trimmed = text.trim();
  if (trimmed === '') throw new ScheduleError('the schedule is empty');
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) return sabre(trimmed);
  const lines = trimmed.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
  if (lines.every((line) => /^\d+$/.test(line))) return mahimahi(lines);
  if (lines.every((line) => /^\d+(\.\d+)?\s+\d+(\.\d+)?$/.test(line))) return mbps(lines);
  return steps(trimmed);
}

function steps(text: string): RateSchedule {
  const points = text.split(/[,\n]/).map((point) => point.trim()).filter(Boolean);
  const segments: ScheduleSegment[] = [];
  let previousAt = -1;
  let previousRate = 0;
  for (const point of points) {
    const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?\s*([:~])\s*(.+)$/.exec(point);
    if (!match) throw new ScheduleError(`"${point}" is not TIME:RATE or TIME~RATE (e.g. 0s:4Mbit,30s:1Mbit,60s~4Mbit)`);
    const at = Number(match[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
    const parsed = parseQuantity(match[4]!, 'rate');
    if (!parsed.ok) throw new ScheduleError(`"${point}": the rate ${parsed.message}`);
    checkRate(parsed.bytes, `"${point}"`);
    if (at <= previousAt) throw new ScheduleError(`"${point}": times must increase (the point before is at ${previousAt / 1000} s)`);
    if (segments.length === 0 && at !== 0) throw new ScheduleError(`"${point}": the first point is at 0s`);
    if (match[3] === '~') {
      if (segments.length === 0) throw new ScheduleError(`"${point}": a ramp needs a point before it`);
      // The ramp replaces the hold of the point before.
      const last = segments.pop()!;
      segments.push({ at: last.at, until: at, from: previousRate, to: parsed.bytes });
    }
    segments.push({ at, until: at, from: parsed.bytes, to: parsed.bytes });
    previousAt = at;
    previousRate = parsed.bytes;
  }
  if (segments.length === 0) throw new ScheduleError('the schedule has no points');
  // The last point holds as long as the gap before it (so a looping 0s:4Mbit,30s:1Mbit is 30 s
  // of each), then the schedule starts over; run once, it holds for good.
  const lastGap = segments.length > 1 ? previousAt - segments.at(-2)!.at : 0;
  return finish(segments, previousAt + lastGap, 'steps');
}

function mahimahi(lines: readonly string[]): RateSchedule {
  if (lines.length > 50_000_000) throw new ScheduleError(`the mahimahi trace has ${lines.length} lines: at most 50,000,000`);
  const times = lines.map(Number);
  for (let i = 1; i < times.length; i++) if (times[i]! < times[i - 1]!) throw new ScheduleError(`mahimahi trace, line ${i + 1}: ${times[i]} ms is before the line above (${times[i - 1]} ms)`);
  // The trace repeats with the period of its last timestamp, as mahimahi replays it.
  const lengthMs = times.at(-1)!;
  if (lengthMs < 1) throw new ScheduleError('the mahimahi trace ends at 0 ms: its last line is its period, at least 1');
  if (lengthMs > MAX_LENGTH_MS) throw new ScheduleError(`the mahimahi trace lasts ${Math.round(lengthMs / 1000)} s: at most a day`);
  const binMs = Math.min(MAHIMAHI_BIN_MS, lengthMs);
  const bins = new Array<number>(Math.ceil(lengthMs / binMs)).fill(0);
  // A line at the period itself is its last delivery, in the last bin.
  for (const t of times) bins[Math.min(bins.length - 1, Math.floor(t / binMs))]! += 1;
  const segments = bins.map((count, i) => {
    // The last bin may be shorter than the others.
    const width = Math.min(binMs, lengthMs - i * binMs);
    const rate = (count * MAHIMAHI_PACKET_BYTES * 1000) / width;
    return { at: i * binMs, until: i * binMs, from: rate, to: rate };
  });
  return finish(segments, lengthMs, 'mahimahi');
}

function mbps(lines: readonly string[]): RateSchedule {
  const rows = lines.map((line) => line.split(/\s+/).map(Number) as [number, number]);
  const start = rows[0]![0];
  const segments: ScheduleSegment[] = [];
  rows.forEach(([time, rate], i) => {
    const at = Math.round((time - start) * 1000);
    if (i > 0 && at <= segments.at(-1)!.at) throw new ScheduleError(`time_s Mbit/s trace, line ${i + 1}: times must increase`);
    const bytes = Math.round((rate * 1e6) / 8);
    checkRate(bytes, `time_s Mbit/s trace, line ${i + 1}`);
    segments.push({ at, until: at, from: bytes, to: bytes });
  });
  // The last sample holds as long as the one before it did.
  const lastGap = segments.length > 1 ? segments.at(-1)!.at - segments.at(-2)!.at : 1000;
  return finish(segments, segments.at(-1)!.at + lastGap, 'mbps');
}

function sabre(text: string): RateSchedule {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ScheduleError(`not JSON (a Sabre trace is [{"duration_ms": ..., "bandwidth_kbps": ...}]): ${(error as Error).message}`);
  }
  const entries = Array.isArray(parsed) ? parsed : (parsed as { trace?: unknown }).trace;
  if (!Array.isArray(entries) || entries.length === 0) throw new ScheduleError('a Sabre trace is a non-empty array of {"duration_ms", "bandwidth_kbps", "latency_ms"}');
  const segments: ScheduleSegment[] = [];
  let at = 0;
  entries.forEach((entry: { duration_ms?: unknown; bandwidth_kbps?: unknown }, i) => {
    const duration = entry?.duration_ms;
    const kbps = entry?.bandwidth_kbps;
    if (typeof duration !== 'number' || !(duration > 0) || typeof kbps !== 'number' || !(kbps >= 0)) {
      throw new ScheduleError(`Sabre trace, entry ${i}: expected "duration_ms" above 0 and "bandwidth_kbps" of 0 or more`);
    }
    const bytes = Math.round((kbps * 1000) / 8);
    checkRate(bytes, `Sabre trace, entry ${i}`);
    segments.push({ at, until: at, from: bytes, to: bytes });
    at += duration;
    if (at > MAX_LENGTH_MS) throw new ScheduleError('the Sabre trace lasts more than a day');
  });
  return finish(segments, at, 'sabre');
}

function checkRate(bytes: number, where: string): void {
  if (!Number.isFinite(bytes) || bytes > MAX_SCHEDULE_RATE) throw new ScheduleError(`${where}: a rate above ${MAX_SCHEDULE_RATE} B/s`);
}

function finish(segments: ScheduleSegment[], lengthMs: number, format: RateSchedule['format']): RateSchedule {
  if (lengthMs > MAX_LENGTH_MS) throw new ScheduleError(`the schedule lasts ${Math.round(lengthMs / 1000)} s: at most a day`);
  if (segments.length > MAX_SEGMENTS) throw new ScheduleError(`the schedule has ${segments.length} pieces: at most ${MAX_SEGMENTS}`);
  return { segments, lengthMs, format };
}

/** Mean rate over one pass (bytes/s), for messages and checks. */
export function meanRate(schedule: RateSchedule): number {
  if (schedule.lengthMs === 0) return schedule.segments[0]!.to;
  let area = 0;
  schedule.segments.forEach((segment, i) => {
    const end = schedule.segments[i + 1]?.at ?? schedule.lengthMs;
    const ramp = segment.until > segment.at ? Math.min(segment.until, end) - segment.at : 0;
    area += ((segment.from + segment.to) / 2) * ramp + segment.to * (end - segment.at - ramp);
  });
  return area / schedule.lengthMs;
}
