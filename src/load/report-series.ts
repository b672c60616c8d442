/**
 * The charts of the HTML report as series over the run, one point per second (the timeline's
 * buckets, sampled at their middle): the bitrate each player fetched, the share of players on
 * each rendition, players stalled, and throughput next to the shaped limit. Built from session
 * intervals with difference arrays, so the cost grows with events and seconds, not their
 * product. Pure. Sessions folded past a player's first 100 have no intervals and are left out.
 */
import type { PlayerRecord, SessionRecord } from './player.js';
import type { TimelineData } from './run-timeline.js';

export interface ReportSeries {
  /** Seconds from the run start (bucket middles). */
  readonly t: readonly number[];
  /** Per charted player: the declared Mbit/s of the rendition it fetched, null between sessions. */
  readonly bitrate: ReadonlyArray<{ readonly player: number; readonly values: ReadonlyArray<number | null> }>;
  /** Per rendition (lowest first): the share of active players fetching it, per second. */
  readonly shares: ReadonlyArray<{ readonly label: string; readonly values: readonly number[] }>;
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

/** Counts of intervals covering each bucket middle. */
class Coverage {
  readonly #diff: Int32Array;
  constructor(readonly buckets: number, readonly bucketMs: number) {
    this.#diff = new Int32Array(buckets + 1);
  }

  /** [fromMs, toMs) after the run start. */
  add(fromMs: number, toMs: number): void {
    const [first, end] = bucketRange(fromMs, toMs, this.buckets, this.bucketMs);
    if (end <= first) return;
    this.#diff[first]! += 1;
    this.#diff[end]! -= 1;
  }

  counts(): number[] {
    const out: number[] = [];
    let running = 0;
    for (let i = 0; i < this.buckets; i++) out.push((running += this.#diff[i]!));
    return out;
  }
}

/** A session as intervals of one rendition each: [fromMs, toMs, rendition], after the run start. */
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
  intervals.push([from, session.endedAt, rendition]);
  return intervals;
}

export function reportSeries(players: readonly PlayerRecord[], timeline: TimelineData, limitBytesPerSecond: number | null): ReportSeries {
  const { bucketMs } = timeline;
  const buckets = timeline.bytes.length;
  const t = Array.from({ length: buckets }, (_, i) => ((i + 0.5) * bucketMs) / 1000);
  const ladder = players.find((player) => player.renditions.length > 0)?.renditions ?? [];
  const onRung = ladder.map(() => new Coverage(buckets, bucketMs));
  const active = new Coverage(buckets, bucketMs);
  const stalled = new Coverage(buckets, bucketMs);
  const bitrate: Array<{ player: number; values: Array<number | null> }> = [];
  for (const player of players) {
    const own = bitrate.length < CHARTED_PLAYERS && player.renditions.length > 0 ? new Array<number | null>(buckets).fill(null) : null;
    for (const session of player.sessions) {
      active.add(session.startedAt, session.endedAt);
      for (const stall of session.stalls) stalled.add(session.startedAt + stall.at, session.startedAt + stall.at + stall.ms);
      for (const [from, to, rendition] of renditionIntervals(session)) {
        onRung[rendition]?.add(from, to);
        if (own === null) continue;
        const mbit = (player.renditions[rendition]?.bandwidth ?? 0) / 1e6;
        const [first, end] = bucketRange(from, to, buckets, bucketMs);
        own.fill(mbit, first, end);
      }
    }
    if (own !== null) bitrate.push({ player: player.id, values: own });
  }
  const activeCounts = active.counts();
  const rungCounts = onRung.map((coverage) => coverage.counts());
  const fetching = t.map((_, i) => rungCounts.reduce((sum, counts) => sum + counts[i]!, 0));
  return {
    t,
    bitrate,
    shares: ladder.map((rung, r) => ({ label: rung.label, values: rungCounts[r]!.map((count, i) => (fetching[i]! > 0 ? count / fetching[i]! : 0)) })),
    stalled: stalled.counts(),
    active: activeCounts,
    perPlayer: timeline.bytes.map((bytes, i) => (activeCounts[i]! > 0 ? (bytes * 8) / (bucketMs / 1000) / activeCounts[i]! / 1e6 : null)),
    segmentMean: timeline.throughputSum.map((sum, i) => (timeline.throughputCount[i]! > 0 ? sum / timeline.throughputCount[i]! / 1e6 : null)),
    segmentMin: timeline.throughputMin.map((min, i) => (timeline.throughputCount[i]! > 0 ? min / 1e6 : null)),
    limit: limitBytesPerSecond === null ? null : (limitBytesPerSecond * 8) / 1e6,
  };
}
