/**
 * The figures of a load run, from the players' records: startup percentiles, stalls, rebuffer
 * ratio, average bitrate, switches per minute, rendition shares and segment throughput
 * (hdr-histogram-js, as autocannon keeps its latencies). Pure.
 */
import * as hdr from 'hdr-histogram-js';
import type { PlayerRecord } from './player.js';

export interface LoadSummary {
  readonly players: number;
  readonly sessions: number;
  /** Players that stopped on a failure (manifest unreachable). */
  readonly failedPlayers: number;
  readonly startup: Percentiles & { readonly neverStarted: number };
  readonly stalls: number;
  /** Sessions with at least one stall. */
  readonly stalledSessions: number;
  readonly stallSeconds: number;
  /** Mean over sessions that played. */
  readonly rebufferRatio: number;
  /** Mean over sessions that played (bits/s). */
  readonly averageBitrate: number;
  readonly switchesPerMinute: number;
  /** Share of played time per rendition, lowest first. */
  readonly renditionShares: ReadonlyArray<{ readonly label: string; readonly bandwidth: number; readonly share: number }>;
  /** Segment download throughput (bits/s). */
  readonly throughput: Percentiles;
  readonly bytes: number;
  readonly errors: number;
  readonly retries: number;
}

export interface Percentiles {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

/** A histogram that can cross threads (base64 of the compressed form). */
export function newHistogram(): hdr.Histogram {
  return hdr.build({ bitBucketSize: 64, useWebAssembly: false, numberOfSignificantValueDigits: 3 });
}

export const encodeHistogram = (histogram: hdr.Histogram): string => hdr.encodeIntoCompressedBase64(histogram);

export function summarize(records: readonly PlayerRecord[], throughputs: readonly string[]): LoadSummary {
  const sessions = records.flatMap((record) => record.sessions);
  const startups = newHistogram();
  let neverStarted = 0;
  for (const session of sessions) {
    if (session.startupMs === null) neverStarted++;
    else startups.recordValue(Math.max(1, Math.round(session.startupMs)));
  }
  const throughput = newHistogram();
  for (const encoded of throughputs) throughput.add(hdr.decodeFromCompressedBase64(encoded, 64, false));
  const played = sessions.filter((session) => session.playedSeconds > 0);
  const mean = (values: number[]): number => (values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length);
  const playedMinutes = sessions.reduce((sum, session) => sum + session.playedSeconds, 0) / 60;
  // Rendition shares over players that share a ladder (the first record's labels name them).
  const ladder = records.find((record) => record.renditions.length > 0)?.renditions ?? [];
  const perRendition = ladder.map(() => 0);
  for (const session of sessions) session.secondsPerRendition.forEach((seconds, i) => (perRendition[i] = (perRendition[i] ?? 0) + seconds));
  const totalPlayed = perRendition.reduce((a, b) => a + b, 0);
  return {
    players: records.length,
    sessions: sessions.length,
    failedPlayers: records.filter((record) => record.failure !== null).length,
    startup: { ...percentiles(startups), neverStarted },
    stalls: sessions.reduce((sum, session) => sum + session.stalls.length, 0),
    stalledSessions: sessions.filter((session) => session.stalls.length > 0).length,
    stallSeconds: sessions.reduce((sum, session) => sum + session.stalls.reduce((s, stall) => s + stall.ms, 0), 0) / 1000,
    rebufferRatio: mean(played.map((session) => session.rebufferRatio)),
    averageBitrate: mean(played.map((session) => session.averageBitrate)),
    switchesPerMinute: playedMinutes > 0 ? sessions.reduce((sum, session) => sum + session.switches.length, 0) / playedMinutes : 0,
    renditionShares: ladder.map((rung, i) => ({ label: rung.label, bandwidth: rung.bandwidth, share: totalPlayed > 0 ? perRendition[i]! / totalPlayed : 0 })),
    throughput: percentiles(throughput),
    bytes: sessions.reduce((sum, session) => sum + session.bytes, 0),
    errors: sessions.reduce((sum, session) => sum + session.errors, 0),
    retries: sessions.reduce((sum, session) => sum + session.retries, 0),
  };
}

function percentiles(histogram: hdr.Histogram): Percentiles {
  if (histogram.totalCount === 0) return { p50: 0, p95: 0, p99: 0, max: 0 };
  return {
    p50: histogram.getValueAtPercentile(50),
    p95: histogram.getValueAtPercentile(95),
    p99: histogram.getValueAtPercentile(99),
    max: histogram.maxValue,
  };
}
