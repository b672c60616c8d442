/**
 * The charts of the HTML report as series over the run, one point per second: from the run's
 * timeline (every session counted), the share of players on each rendition, players stalled and
 * active, throughput next to the shaped limit; from the records, the bitrate each of the first
 * players fetched (sampled at the middle of each second; sessions folded past a player's first
 * 100 are not drawn). Pure.
 */
import type { PlayerRecord, SessionRecord } from './player.js';
import type { TimelineData } from './run-timeline.js';

export interface ReportSeries {
  /** Seconds from the run start (bucket middles). */
  readonly t: readonly number[];
  /** Per charted player: the declared Mbit/s of the rendition it fetched, null between sessions. */
  readonly bitrate: ReadonlyArray<{ readonly player: number; readonly values: ReadonlyArray<number | null> }>;
  /** Per rendition (lowest first): the share of the players fetching one that fetched it, per second. */
  readonly shares: ReadonlyArray<{ readonly label: string; readonly values: readonly number[] }>;
  /** Players stalled and players active, averaged over each second. */
  readonly stalled: readonly number[];
  readonly active: readonly number[];
  /** Mbit/s: received per active player, segment throughput mean and lowest (null: none finished). */
  readonly perPlayer: ReadonlyArray<number | null>;
  readonly segmentMean: ReadonlyArray<number | null>;
  readonly segmentMin: ReadonlyArray<number | null>;
  /** The shaped per-viewer limit in Mbit/s, or null when not given. */
  readonly limit: number | null;
}

/** Players drawn one line each (the shares and counts cover every player). */
export const CHARTED_PLAYERS = 40;

/** The buckets whose middles [fromMs, toMs) covers: first, and one past the last. */
function bucketRange(fromMs: number, toMs: number, buckets: number, bucketMs: number): [number, number] {
  const index = (ms: number): number => Math.min(buckets, Math.max(0, Math.ceil(ms / bucketMs - 0.5)));
  return [index(fromMs), index(toMs)];
}

/**
 * A session as intervals of one rendition each: [fromMs, toMs, rendition], after the run start.
 * When the switch list was cut (its first 200 kept), the intervals stop at the last one listed.
 */
export function renditionIntervals(session: SessionRecord): Array<[number, number, number]> {
  const intervals: Array<[number, number, number]> = [];
  let from = session.startedAt;
  let rendition = session.initialRendition;
  for (const change of session.switches) {
    const at = session.startedAt + change.at;
    intervals.push([from, at, rendition]);
    from = at;
    rendition = change.to;
  }
  if (session.switchCount === session.switches.length) intervals.push([from, session.endedAt, rendition]);
  return intervals;
}

export function reportSeries(players: readonly PlayerRecord[], timeline: TimelineData, limitBytesPerSecond: number | null): ReportSeries {
  const { bucketMs } = timeline;
  const buckets = timeline.bytes.length;
  const bucketSeconds = (i: number): number => (i === buckets - 1 ? timeline.lastBucketMs : bucketMs) / 1000;
  const t = Array.from({ length: buckets }, (_, i) => (i * bucketMs + (bucketSeconds(i) * 1000) / 2) / 1000);
  const ladder = players.find((player) => player.renditions.length > 0)?.renditions ?? [];
  const bitrate: Array<{ player: number; values: Array<number | null> }> = [];
  for (const player of players) {
    if (bitrate.length >= CHARTED_PLAYERS) break;
    if (player.renditions.length === 0) continue;
    const values = new Array<number | null>(buckets).fill(null);
    for (const session of player.sessions) {
      for (const [from, to, rendition] of renditionIntervals(session)) {
        const [first, end] = bucketRange(from, to, buckets, bucketMs);
        values.fill((player.renditions[rendition]?.bandwidth ?? 0) / 1e6, first, end);
      }
    }
    bitrate.push({ player: player.id, values });
  }
  const fetching = t.map((_, i) => timeline.rungs.reduce((sum, counts) => sum + (counts[i] ?? 0), 0));
  return {
    t,
    bitrate,
    shares: ladder.map((rung, r) => ({ label: rung.label, values: t.map((_, i) => (fetching[i]! > 0 ? (timeline.rungs[r]?.[i] ?? 0) / fetching[i]! : 0)) })),
    stalled: timeline.stalled,
    active: timeline.active,
    perPlayer: timeline.bytes.map((bytes, i) => (timeline.active[i]! > 0 ? (bytes * 8) / bucketSeconds(i) / timeline.active[i]! / 1e6 : null)),
    segmentMean: timeline.throughputSum.map((sum, i) => (timeline.throughputCount[i]! > 0 ? sum / timeline.throughputCount[i]! / 1e6 : null)),
    segmentMin: timeline.throughputMin.map((min, i) => (timeline.throughputCount[i]! > 0 ? min / 1e6 : null)),
    limit: limitBytesPerSecond === null ? null : (limitBytesPerSecond * 8) / 1e6,
  };
}
