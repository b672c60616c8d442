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
  /** Stalled time / (played + stalled time), all sessions together. */
  readonly rebufferRatio: number;
  /** Time-weighted over everything played (bits/s). */
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
  const folded = records.flatMap((record) => (record.folded === null ? [] : [record.folded]));
  const startups = newHistogram();
  let neverStarted = folded.reduce((sum, f) => sum + f.neverStarted, 0);
  for (const record of records) {
    record.sessions.forEach((session, i) => {
      // A later session the deadline cut before it could start is the run ending, not a viewer
      // who never saw a frame; a player's first session always counts.
      if (session.startupMs === null) {
        if (i === 0 || session.completed || session.segments > 0) neverStarted++;
      } else startups.recordValue(Math.max(1, Math.round(session.startupMs)));
    });
  }
  const throughput = newHistogram();
  for (const encoded of throughputs) throughput.add(hdr.decodeFromCompressedBase64(encoded, 64, false));
  /** A figure over the full sessions and the folded ones. */
  const total = (key: 'playedSeconds' | 'stallMs' | 'stallCount' | 'switchCount' | 'bytes' | 'errors' | 'retries'): number =>
    sessions.reduce((sum, session) => sum + session[key], 0) + folded.reduce((sum, more) => sum + more[key], 0);
  const playedSeconds = total('playedSeconds');
  const stallMs = total('stallMs');
  // Rendition shares over players that share a ladder (the first record's labels name them).
  const ladder = records.find((record) => record.renditions.length > 0)?.renditions ?? [];
  const perRendition = ladder.map(() => 0);
  for (const entry of [...sessions, ...folded]) entry.secondsPerRendition.forEach((seconds, i) => (perRendition[i] = (perRendition[i] ?? 0) + seconds));
  const totalPlayed = perRendition.reduce((a, b) => a + b, 0);
  return {
    players: records.length,
    sessions: sessions.length + folded.reduce((sum, more) => sum + more.sessions, 0),
    failedPlayers: records.filter((record) => record.failure !== null).length,
    startup: { ...percentiles(startups), neverStarted },
    stalls: total('stallCount'),
    stalledSessions: sessions.filter((session) => session.stallCount > 0).length + folded.reduce((sum, more) => sum + more.stalledSessions, 0),
    stallSeconds: stallMs / 1000,
    rebufferRatio: playedSeconds * 1000 + stallMs > 0 ? stallMs / (playedSeconds * 1000 + stallMs) : 0,
    averageBitrate: totalPlayed > 0 ? perRendition.reduce((sum, seconds, i) => sum + seconds * (ladder[i]?.bandwidth ?? 0), 0) / totalPlayed : 0,
    switchesPerMinute: playedSeconds > 0 ? total('switchCount') / (playedSeconds / 60) : 0,
    renditionShares: ladder.map((rung, i) => ({ label: rung.label, bandwidth: rung.bandwidth, share: totalPlayed > 0 ? perRendition[i]! / totalPlayed : 0 })),
    throughput: percentiles(throughput),
    bytes: total('bytes'),
    errors: total('errors'),
    retries: total('retries'),
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
