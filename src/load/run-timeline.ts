/**
 * What a load run received, second by second from its start: bytes as they arrived, and the
 * throughput of the segments that finished in that second (sum, count, lowest). Each simulator
 * thread keeps one and returns it once; the main thread adds them up. Bounded by the run length.
 */
export interface TimelineData {
  readonly bucketMs: number;
  readonly bytes: readonly number[];
  /** Segment throughput in bits/s: sum and count (for the mean) and the lowest, per bucket. */
  readonly throughputSum: readonly number[];
  readonly throughputCount: readonly number[];
  readonly throughputMin: readonly number[];
}

const BUCKET_MS = 1000;

export class RunTimeline {
  readonly #bytes: Float64Array;
  readonly #sum: Float64Array;
  readonly #count: Float64Array;
  readonly #min: Float64Array;

  constructor(durationMs: number) {
    const buckets = Math.max(1, Math.ceil(durationMs / BUCKET_MS));
    this.#bytes = new Float64Array(buckets);
    this.#sum = new Float64Array(buckets);
    this.#count = new Float64Array(buckets);
    this.#min = new Float64Array(buckets).fill(Infinity);
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

  data(): TimelineData {
    return {
      bucketMs: BUCKET_MS,
      bytes: [...this.#bytes],
      throughputSum: [...this.#sum],
      throughputCount: [...this.#count],
      // JSON has no Infinity: 0 where no segment finished (the count says so).
      throughputMin: [...this.#min].map((min) => (Number.isFinite(min) ? min : 0)),
    };
  }

  /** Clamped: a late callback past the deadline lands in the last second. */
  #bucket(atMs: number): number {
    return Math.min(this.#bytes.length - 1, Math.max(0, Math.floor(atMs / BUCKET_MS)));
  }
}

/** The threads' timelines added up (each thread's covers the same run length). */
export function mergeTimelines(parts: readonly TimelineData[]): TimelineData {
  const length = Math.max(0, ...parts.map((part) => part.bytes.length));
  const add = (key: 'bytes' | 'throughputSum' | 'throughputCount'): number[] =>
    Array.from({ length }, (_, i) => parts.reduce((sum, part) => sum + (part[key][i] ?? 0), 0));
  const count = add('throughputCount');
  return {
    bucketMs: BUCKET_MS,
    bytes: add('bytes'),
    throughputSum: add('throughputSum'),
    throughputCount: count,
    throughputMin: Array.from({ length }, (_, i) => {
      const mins = parts.filter((part) => (part.throughputCount[i] ?? 0) > 0).map((part) => part.throughputMin[i]!);
      return mins.length === 0 ? 0 : Math.min(...mins);
    }),
  };
}
