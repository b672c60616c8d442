/**
 * Named network conditions: a downlink rate and a latency, applied by the control plane as a
 * rate limit and as time added before each response's first byte (HTTP level: no packet delay,
 * loss or upload limit). Chrome DevTools' presets and comcast's (kbit/s there, bytes here). Pure.
 */
export interface NetworkProfile {
  readonly name: string;
  /** Bytes per second. */
  readonly rate: number;
  /** Milliseconds before each response's first byte. */
  readonly latencyMs: number;
  readonly source: string;
}

export const NETWORK_PROFILES: readonly NetworkProfile[] = [
  { name: 'slow-3g', rate: 50_000, latencyMs: 2000, source: 'Chrome DevTools "Slow 3G"' },
  { name: 'slow-4g', rate: 180_000, latencyMs: 562.5, source: 'Chrome DevTools "Slow 4G"' },
  { name: 'fast-4g', rate: 1_012_500, latencyMs: 165, source: 'Chrome DevTools "Fast 4G"' },
  { name: 'gprs', rate: 6_250, latencyMs: 500, source: 'comcast GPRS (good): 50 kbit/s, 500 ms' },
  { name: 'edge', rate: 31_250, latencyMs: 300, source: 'comcast EDGE (good): 250 kbit/s, 300 ms' },
  { name: '3g', rate: 93_750, latencyMs: 250, source: 'comcast 3G/HSDPA (good): 750 kbit/s, 250 ms' },
  { name: 'dsl', rate: 1_000_000, latencyMs: 40, source: 'comcast DSL (good): 8 Mbit/s, 40 ms' },
  { name: 'wifi', rate: 3_750_000, latencyMs: 40, source: 'comcast WIFI (good): 30 Mbit/s, 40 ms' },
];

export class UnknownProfileError extends Error {}

export function networkProfile(name: string): NetworkProfile {
  const profile = NETWORK_PROFILES.find((candidate) => candidate.name === name.toLowerCase());
  if (profile === undefined) throw new UnknownProfileError(`"${name}" is not a profile (expected ${NETWORK_PROFILES.map((p) => p.name).join(', ')})`);
  return profile;
}
