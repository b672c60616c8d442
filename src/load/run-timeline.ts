/**
 * What a load run saw, second by second from its start: bytes as they arrived, the throughput of
 * the segments that finished in that second (sum, count, lowest), and time-weighted counts of
 * players active, players stalled and players on each rendition. Each simulator thread keeps one
 * (fed by the players' callbacks, so it covers every session, also those the records fold) and
 * returns it once; the main thread adds them up. Bounded by the run length.
 */
export interface TimelineData {
  readonly bucketMs: number;
  /** The last bucket may be shorter (a run length that is not whole seconds). */
  readonly lastBucketMs: number;
  readonly bytes: readonly number[];
  /** Segment throughput in bits/s: sum and count (for the mean) and the lowest, per bucket. */
  readonly throughputSum: readonly number[];
  readonly throughputCount: readonly number[];
  readonly throughputMin: readonly number[];
  /** Players, averaged over each bucket: active, stalled, and fetching each rendition (by index). */
  readonly active: readonly number[];
  readonly stalled: readonly number[];
  readonly rungs: ReadonlyArray<readonly number[]>;
}

const BUCKET_MS = 1000;

/** A count that changes at instants, integrated over each bucket (count x milliseconds). */
class Occupancy {
  readonly sums: Float64Array;
  #level = 0;
  #since = 0;

  constructor(buckets: number) {
    this.sums = new Float64Array(buckets);
  }

  change(atMs: number, delta: number): void {
    addInterval(this.sums, this.#since, atMs, this.#level);
    this.#level += delta;
    this.#since = Math.max(this.#since, atMs);
  }

  flush(endMs: number): void {
    addInterval(this.sums, this.#since, endMs, this.#level);
    this.#since = Math.max(this.#since, endMs);
  }
}

/** Adds `weight` x the overlap of [fromMs, toMs) with each bucket. */
function addInterval(sums: Float64Array, fromMs: number, toMs: number, weight: number): void {
  if (weight === 0 || toMs <= fromMs) return;
  const last = sums.length - 1;
  for (let i = Math.max(0, Math.floor(fromMs / BUCKET_MS)); i <= Math.min(last, Math.floor(toMs / BUCKET_MS)); i++) {
    const overlap = Math.min(toMs, (i + 1) * BUCKET_MS) - Math.max(fromMs, i * BUCKET_MS);
    if (overlap > 0) sums[i]! += weight * overlap;
  }
}

export class RunTimeline {
  readonly #durationMs: number;
  readonly #buckets: number;
  readonly #bytes: Float64Array;
  readonly #sum: Float64Array;
  readonly #count: Float64Array;
  readonly #min: Float64Array;
  readonly #active: Occupancy;
  readonly #stalled: Float64Array;
  readonly #rungs: Occupancy[] = [];

  constructor(durationMs: number) {
    this.#durationMs = durationMs;
    this.#buckets = Math.max(1, Math.ceil(durationMs / BUCKET_MS));
    this.#bytes = new Float64Array(this.#buckets);
    this.#sum = new Float64Array(this.#buckets);
    this.#count = new Float64Array(this.#buckets);
    this.#min = new Float64Array(this.#buckets).fill(Infinity);
    this.#active = new Occupancy(this.#buckets);
    this.#stalled = new Float64Array(this.#buckets);
  }

  /** `bytes` arrived `atMs` after the run started. */
  bytes(atMs: number, bytes: number): void {
    this.#bytes[this.#bucket(atMs)]! += bytes;
  }

  /** A segment finished `atMs` after the run started at `bitsPerSecond`. */
  throughput(atMs: number, bitsPerSecond: number): void {
    const i = this.#bucket(atMs);
    this.#sum[i]! += bitsPerSecond;
    this.#count[i]! += 1;
    if (bitsPerSecond < this.#min[i]!) this.#min[i] = bitsPerSecond;
  }

  /** A player started (+1) or stopped (-1). */
  active(atMs: number, delta: number): void {
    this.#active.change(atMs, delta);
  }

  /** A player started (+1) or stopped (-1) fetching `rung`. */
  rung(atMs: number, rung: number, delta: number): void {
    while (this.#rungs.length <= rung) this.#rungs.push(new Occupancy(this.#buckets));
    this.#rungs[rung]!.change(atMs, delta);
  }

  /** A player was stalled over [fromMs, toMs). */
  stalled(fromMs: number, toMs: number): void {
    addInterval(this.#stalled, fromMs, toMs, 1);
  }

  data(): TimelineData {
    this.#active.flush(this.#durationMs);
    for (const rung of this.#rungs) rung.flush(this.#durationMs);
    const lastBucketMs = this.#durationMs - (this.#buckets - 1) * BUCKET_MS;
    const mean = (sums: Float64Array): number[] => [...sums].map((sum, i) => sum / (i === sums.length - 1 ? lastBucketMs : BUCKET_MS));
    return {
      bucketMs: BUCKET_MS,
      lastBucketMs,
      bytes: [...this.#bytes],
      throughputSum: [...this.#sum],
      throughputCount: [...this.#count],
      // JSON has no Infinity: 0 where no segment finished (the count says so).
      throughputMin: [...this.#min].map((min) => (Number.isFinite(min) ? min : 0)),
      active: mean(this.#active.sums),
      stalled: mean(this.#stalled),
      rungs: this.#rungs.map((rung) => mean(rung.sums)),
    };
  }

  /** Clamped: a late callback past the deadline lands in the last second. */
  #bucket(atMs: number): number {
    return Math.min(this.#buckets - 1, Math.max(0, Math.floor(atMs / BUCKET_MS)));
  }
}

/** The threads' timelines added up (each thread's covers the same run length). */
export function mergeTimelines(parts: readonly TimelineData[]): TimelineData {
  const length = Math.max(0, ...parts.map((part) => part.bytes.length));
  const sum = (pick: (part: TimelineData) => readonly number[] | undefined): number[] =>
    Array.from({ length }, (_, i) => parts.reduce((total, part) => total + (pick(part)?.[i] ?? 0), 0));
  const rungCount = Math.max(0, ...parts.map((part) => part.rungs.length));
  return {
    bucketMs: BUCKET_MS,
    lastBucketMs: parts[0]?.lastBucketMs ?? BUCKET_MS,
    bytes: sum((part) => part.bytes),
    throughputSum: sum((part) => part.throughputSum),
    throughputCount: sum((part) => part.throughputCount),
    throughputMin: Array.from({ length }, (_, i) => {
      const mins = parts.filter((part) => (part.throughputCount[i] ?? 0) > 0).map((part) => part.throughputMin[i]!);
      return mins.length === 0 ? 0 : Math.min(...mins);
    }),
    active: sum((part) => part.active),
    stalled: sum((part) => part.stalled),
    rungs: Array.from({ length: rungCount }, (_, r) => sum((part) => part.rungs[r])),
  };
}
