/**
 * `mediacast load`: spreads the players over a piscina pool of simulator threads, shows live
 * progress, and turns the records into the summary, the table and the reports (JSON, CSV, HTML,
 * P.1203 input).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { AbrOptions } from './abr.js';
import { htmlReport } from './html-report.js';
import { summarize, type LoadSummary } from './load-summary.js';
import { failedConditions, type FailCondition } from './load-options.js';
import type { LoadTask, LoadTaskResult, PlayerSpec } from './load-worker.js';
import { p1203Lines } from './p1203-input.js';
import type { BufferOptions } from './playback-buffer.js';
import type { PlayerRecord } from './player.js';
import { createProgress, readProgress } from './progress.js';
import { mergeTimelines, type TimelineData } from './run-timeline.js';

export interface LoadPlan {
  readonly url: string;
  readonly players: number;
  readonly rampMs: number;
  readonly durationMs: number;
  readonly loops: number;
  /** One local address per player, in turn; null: the system's choice. */
  readonly sources: readonly string[] | null;
  /** Header naming each viewer (`viewer-N`), or null. */
  readonly clientIdHeader: string | null;
  readonly threads: number;
  readonly abr: AbrOptions;
  readonly buffer: BufferOptions;
  readonly cmcd: 'query' | 'headers' | null;
  readonly jsonFile: string | null;
  readonly csvFile: string | null;
  readonly htmlFile: string | null;
  readonly p1203File: string | null;
  /** The per-viewer limit the server shapes to (bytes/s), for the HTML report; or null. */
  readonly limit: number | null;
  readonly failOn: readonly FailCondition[];
}

export interface LoadOutcome {
  readonly summary: LoadSummary;
  readonly players: readonly PlayerRecord[];
  readonly timeline: TimelineData;
  readonly failed: readonly FailCondition[];
}

const WORKER = fileURLToPath(new URL('./load-worker.js', import.meta.url));

export async function runLoad(plan: LoadPlan, io: { print(line: string): void; progress: ((line: string) => void) | null }): Promise<LoadOutcome> {
  const threads = Math.max(1, Math.min(plan.threads, plan.players));
  const tasks: Array<{ players: PlayerSpec[]; progress: SharedArrayBuffer }> = Array.from({ length: threads }, () => ({ players: [], progress: createProgress() }));
  for (let id = 0; id < plan.players; id++) {
    tasks[id % threads]!.players.push({
      id,
      startOffsetMs: plan.players > 1 ? (plan.rampMs * id) / plan.players : 0,
      source: plan.sources === null ? null : plan.sources[id % plan.sources.length]!,
      clientId: plan.clientIdHeader === null ? null : [plan.clientIdHeader, `viewer-${id}`],
    });
  }
  const pool = new Piscina({ filename: WORKER, minThreads: threads, maxThreads: threads, idleTimeout: 1000 });
  const started = performance.now();
  // One clock for every thread (each has its own performance.now() origin): the wall clock.
  const startEpochMs = Date.now();
  const startedAt = new Date(startEpochMs);
  let lastBytes = 0;
  let lastAt = started;
  const ticker =
    io.progress === null
      ? null
      : setInterval(() => {
          const now = performance.now();
          const progress = readProgress(tasks.map((task) => task.progress));
          const mbit = ((progress.bytes - lastBytes) * 8) / ((now - lastAt) / 1000) / 1e6;
          lastBytes = progress.bytes;
          lastAt = now;
          const rungs = progress.rungs.length > 0 ? `, on rungs (lowest first) ${progress.rungs.join(' / ')}` : '';
          io.progress!(
            `${((now - started) / 1000).toFixed(0)} s: ${progress.active} of ${plan.players} players active, ${mbit.toFixed(1)} Mbit/s, ${progress.stalls} stalls so far${rungs}`,
          );
        }, 1000);
  try {
    const results: LoadTaskResult[] = await Promise.all(
      tasks.map((task) =>
        pool.run({
          url: plan.url,
          players: task.players,
          abr: plan.abr,
          buffer: plan.buffer,
          cmcd: plan.cmcd,
          startEpochMs,
          durationMs: plan.durationMs,
          loops: plan.loops,
          keepPlayedMedia: plan.p1203File !== null,
          progress: task.progress,
        } satisfies LoadTask),
      ),
    );
    const players = results.flatMap((result) => result.players).sort((a, b) => a.id - b.id);
    const summary = summarize(
      players,
      results.map((result) => result.throughput),
    );
    if (plan.jsonFile !== null) writeFileSync(plan.jsonFile, `${JSON.stringify({ url: plan.url, summary, players }, null, 2)}\n`);
    if (plan.csvFile !== null) writeFileSync(plan.csvFile, sessionsCsv(players));
    const timeline = mergeTimelines(results.map((result) => result.timeline));
    if (plan.htmlFile !== null) writeFileSync(plan.htmlFile, htmlReport({ url: plan.url, summaryRows: summaryRows(summary), summary, players, timeline, limit: plan.limit, startedAt }));
    if (plan.p1203File !== null) writeFileSync(plan.p1203File, p1203Lines(players));
    return { summary, players, timeline, failed: failedConditions(plan.failOn, summary) };
  } finally {
    if (ticker !== null) clearInterval(ticker);
    await pool.destroy();
  }
}

const CSV_COLUMNS = ['player', 'source', 'session', 'startup_ms', 'stalls', 'stall_ms', 'switches', 'played_s', 'average_bitrate', 'rebuffer_ratio', 'bytes', 'segments', 'errors', 'retries', 'completed'];

/** One row per session kept in full (sessions folded past the first 100 of a player are not listed). */
export function sessionsCsv(players: readonly PlayerRecord[]): string {
  const rows = [CSV_COLUMNS.join(',')];
  for (const player of players) {
    player.sessions.forEach((s, i) => {
      rows.push(
        [player.id, player.source ?? '', i, s.startupMs === null ? '' : Math.round(s.startupMs), s.stallCount, Math.round(s.stallMs), s.switchCount, s.playedSeconds.toFixed(3), Math.round(s.averageBitrate), s.rebufferRatio.toFixed(5), s.bytes, s.segments, s.errors, s.retries, s.completed].join(','),
      );
    });
  }
  return `${rows.join('\n')}\n`;
}

/** The final table: one line per figure. */
export function formatSummary(summary: LoadSummary): string {
  const rows = summaryRows(summary);
  const width = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, value]) => `${name.padEnd(width)}  ${value}`).join('\n');
}

/** The figures of the final table as name and value. */
export function summaryRows(summary: LoadSummary): Array<[string, string]> {
  const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  const mbit = (bps: number): string => `${(bps / 1e6).toFixed(3)} Mbit/s`;
  const rows: Array<[string, string]> = [
    ['players', `${summary.players} (${summary.failedPlayers} failed), ${summary.sessions} sessions`],
    ['startup p50 / p95 / p99 / max', `${seconds(summary.startup.p50)} / ${seconds(summary.startup.p95)} / ${seconds(summary.startup.p99)} / ${seconds(summary.startup.max)}${summary.startup.neverStarted > 0 ? ` (${summary.startup.neverStarted} sessions never started)` : ''}`],
    ['stalls', `${summary.stalls} in ${summary.stalledSessions} sessions, ${summary.stallSeconds.toFixed(1)} s in all`],
    ['rebuffer ratio', `${(summary.rebufferRatio * 100).toFixed(2)} %`],
    ['average bitrate (time-weighted)', mbit(summary.averageBitrate)],
    ['switches per minute', summary.switchesPerMinute.toFixed(2)],
    ...summary.renditionShares.map(({ label, bandwidth, share }) => [`  ${label} (${mbit(bandwidth)})`, `${(share * 100).toFixed(1)} % of played time`] as [string, string]),
    ['segment throughput p50 / p95', `${mbit(summary.throughput.p50)} / ${mbit(summary.throughput.p95)}`],
    ['received', `${(summary.bytes / 1e6).toFixed(1)} MB, ${summary.errors} HTTP errors, ${summary.retries} retries`],
  ];
  return rows;
}
