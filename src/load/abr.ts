/**
 * Rendition choice for simulated players. The default follows hls.js (v1): a bandwidth
 * estimate from two exponentially weighted moving averages of segment throughput, fast and slow
 * (half-lives 3 s and 9 s of download time), taking the lower; before any sample, 500 kbit/s.
 * A rendition is chosen when its bandwidth fits the estimate times 0.95 (staying or going down)
 * or times 0.7 (going up). hls.js also looks ahead at the buffer to avoid starving; that part is
 * not simulated. The second rule is buffer-based (BBA-0, Huang et al. 2014): the rung follows the
 * buffer level between a reservoir and a cushion.
 */
import type { Rendition } from './presentation.js';

export interface AbrOptions {
  readonly rule: 'throughput' | 'buffer';
  /** hls.js abrEwmaFastVoD / abrEwmaSlowVoD (seconds). */
  readonly fastHalfLife: number;
  readonly slowHalfLife: number;
  /** hls.js abrEwmaDefaultEstimate (bits per second). */
  readonly defaultEstimate: number;
  /** hls.js abrBandWidthFactor and abrBandWidthUpFactor. */
  readonly bandwidthFactor: number;
  readonly bandwidthUpFactor: number;
  /** Buffer rule: below `reservoir` seconds the lowest rung, above `reservoir + cushion` the highest. */
  readonly reservoir: number;
  readonly cushion: number;
}

export const DEFAULT_ABR: AbrOptions = Object.freeze({
  rule: 'throughput',
  fastHalfLife: 3,
  slowHalfLife: 9,
  defaultEstimate: 500_000,
  bandwidthFactor: 0.95,
  bandwidthUpFactor: 0.7,
  reservoir: 5,
  cushion: 10,
});

/** hls.js's EWMA: weights are seconds of download time. */
class Ewma {
  readonly #alpha: number;
  #estimate = 0;
  #totalWeight = 0;

  constructor(halfLife: number) {
    this.#alpha = Math.exp(Math.log(0.5) / halfLife);
  }

  sample(weight: number, value: number): void {
    const adjusted = this.#alpha ** weight;
    this.#estimate = value * (1 - adjusted) + adjusted * this.#estimate;
    this.#totalWeight += weight;
  }

  get totalWeight(): number {
    return this.#totalWeight;
  }

  /** Corrected for the zero start, as hls.js does. */
  get estimate(): number {
    const zeroFactor = 1 - this.#alpha ** this.#totalWeight;
    return zeroFactor > 0 ? this.#estimate / zeroFactor : this.#estimate;
  }
}

/** Downloads shorter than this count as this long (hls.js minDelayMs). */
const MIN_DELAY_MS = 50;
/** hls.js minWeight: below this much sampled time the default estimate stands. */
const MIN_WEIGHT = 0.001;

export class BandwidthEstimator {
  readonly #fast: Ewma;
  readonly #slow: Ewma;
  readonly #default: number;

  constructor(options: AbrOptions) {
    this.#fast = new Ewma(options.fastHalfLife);
    this.#slow = new Ewma(options.slowHalfLife);
    this.#default = options.defaultEstimate;
  }

  /** One download: `bytes` in `ms` milliseconds. */
  sample(ms: number, bytes: number): void {
    const seconds = Math.max(ms, MIN_DELAY_MS) / 1000;
    const bitsPerSecond = (8 * bytes) / seconds;
    this.#fast.sample(seconds, bitsPerSecond);
    this.#slow.sample(seconds, bitsPerSecond);
  }

  /** Bits per second. */
  get estimate(): number {
    if (this.#fast.totalWeight < MIN_WEIGHT) return this.#default;
    return Math.min(this.#fast.estimate, this.#slow.estimate);
  }
}

/** The rendition index to fetch next. */
export function chooseRendition(renditions: readonly Rendition[], current: number, estimate: number, bufferSeconds: number, options: AbrOptions): number {
  if (renditions.length <= 1) return 0;
  if (options.rule === 'buffer') {
    if (bufferSeconds <= options.reservoir) return 0;
    const share = Math.min(1, (bufferSeconds - options.reservoir) / options.cushion);
    return Math.min(renditions.length - 1, Math.floor(share * (renditions.length - 1)));
  }
  for (let i = renditions.length - 1; i > 0; i--) {
    const factor = i > current ? options.bandwidthUpFactor : options.bandwidthFactor;
    if (renditions[i]!.bandwidth <= estimate * factor) return i;
  }
  return 0;
}
