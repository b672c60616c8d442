/**
 * `mediacast load`: spreads the players over a piscina pool of simulator threads, shows live
 * progress, and turns the records into the summary, the table and the reports (JSON, CSV, HTML,
 * P.1203 input).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { AbrOptions } from './abr.js';
import type { UplotAssets } from '../charts/uplot-assets.js';
import { htmlReport } from './html-report.js';
import { summarize, type LoadSummary } from './load-summary.js';
import { failedConditions, type FailCondition } from './load-options.js';
import type { LoadTask, LoadTaskResult, PlayerSpec } from './load-worker.js';
import type { BufferOptions } from './playback-buffer.js';
import type { PlayerRecord } from './player.js';
import { createProgress, readProgress } from './progress.js';
import { mergeTimelines } from './run-timeline.js';

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
  /** The HTML report: where, its scripts (read before the run), the per-viewer limit drawn (bytes/s) or null. */
  readonly html: { readonly file: string; readonly assets: UplotAssets; readonly limit: number | null } | null;
  readonly p1203File: string | null;
  readonly failOn: readonly FailCondition[];
}

export interface LoadOutcome {
  readonly summary: LoadSummary;
  readonly players: readonly PlayerRecord[];
  readonly failed: readonly FailCondition[];
  /** Reports that could not be written (the option, the file, why). */
  readonly reportErrors: readonly string[];
  /** P.1203 lines the reference software cannot score as they are (a codec, resolution or frame rate missing). */
  readonly p1203Unscorable: number;
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
          timeline: plan.html !== null,
          p1203: plan.p1203File !== null,
          progress: task.progress,
        } satisfies LoadTask),
      ),
    );
    const players = results.flatMap((result) => result.players).sort((a, b) => a.id - b.id);
    const summary = summarize(
      players,
      results.map((result) => result.throughput),
    );
    // Each report on its own: one that cannot be written does not cost the others or the summary.
    const reportErrors: string[] = [];
    const report = (option: string, file: string | null, produce: (put: (text: string) => void) => void): void => {
      if (file === null) return;
      try {
        const fd = openSync(file, 'w');
        try {
          produce((text) => void writeSync(fd, text));
        } finally {
          closeSync(fd);
        }
      } catch (error) {
        reportErrors.push(`${option}: cannot write ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
      }
    };
    // Written piece by piece: one string of a long run's records could pass V8's string limit.
    report('--json', plan.jsonFile, (put) => {
      put(`{\n  "url": ${JSON.stringify(plan.url)},\n  "summary": ${indented(summary, 2)},\n  "players": [`);
      players.forEach((player, i) => put(`${i === 0 ? '' : ','}\n    ${indented(player, 4)}`));
      put(`${players.length === 0 ? '' : '\n  '}]\n}\n`);
    });
    report('--csv', plan.csvFile, (put) => sessionsCsv(players, put));
    const html = plan.html;
    if (html !== null) {
      const timeline = mergeTimelines(results.flatMap((result) => (result.timeline === null ? [] : [result.timeline])));
      report('--html', html.file, (put) => put(htmlReport({ url: plan.url, summaryRows: summaryRows(summary), stalls: summary.stalls, players, timeline, limit: html.limit, startedAt, assets: html.assets })));
    }
    report('--p1203', plan.p1203File, (put) => {
      for (const result of results) for (const line of result.p1203) put(`${line}\n`);
    });
    return {
      summary,
      players,
      failed: failedConditions(plan.failOn, summary),
      reportErrors,
      p1203Unscorable: results.reduce((sum, result) => sum + result.p1203Unscorable, 0),
    };
  } finally {
    if (ticker !== null) clearInterval(ticker);
    await pool.destroy();
  }
}

const CSV_COLUMNS = ['player', 'source', 'session', 'startup_ms', 'stalls', 'stall_ms', 'switches', 'played_s', 'average_bitrate', 'rebuffer_ratio', 'bytes', 'segments', 'errors', 'retries', 'completed'];

/** One row per session kept in full (sessions folded past the first 100 of a player are not listed), line by line. */
export function sessionsCsv(players: readonly PlayerRecord[], put: (text: string) => void): void {
  put(`${CSV_COLUMNS.join(',')}\n`);
  for (const player of players) {
    player.sessions.forEach((s, i) => {
      put(
        `${[player.id, player.source ?? '', i, s.startupMs === null ? '' : Math.round(s.startupMs), s.stallCount, Math.round(s.stallMs), s.switchCount, s.playedSeconds.toFixed(3), Math.round(s.averageBitrate), s.rebufferRatio.toFixed(5), s.bytes, s.segments, s.errors, s.retries, s.completed].join(',')}\n`,
      );
    });
  }
}

/** JSON of `value` as it sits `depth` spaces deep in the report. */
const indented = (value: unknown, depth: number): string => JSON.stringify(value, null, 2).replace(/\n/g, `\n${' '.repeat(depth)}`);

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
