/**
 * A piscina worker of `mediacast load`: runs its share of the players as async sessions, counts
 * live progress into shared memory, and returns once, at the end, their records, one throughput
 * histogram and one timeline (never a message per sample).
 */
import type { AbrOptions } from './abr.js';
import { encodeHistogram, newHistogram } from './load-summary.js';
import type { BufferOptions } from './playback-buffer.js';
import { p1203Lines } from './p1203-input.js';
import { runPlayer, type PlayerRecord } from './player.js';
import { PROGRESS, rungWord, type ProgressWord } from './progress.js';
import { RunTimeline, type TimelineData } from './run-timeline.js';

export interface PlayerSpec {
  readonly id: number;
  /** ms after the run start at which this player starts (the ramp). */
  readonly startOffsetMs: number;
  readonly source: string | null;
  readonly clientId: readonly [string, string] | null;
}

export interface LoadTask {
  readonly url: string;
  readonly players: readonly PlayerSpec[];
  readonly abr: AbrOptions;
  readonly buffer: BufferOptions;
  readonly cmcd: 'query' | 'headers' | null;
  /** When the run started (Date.now()): ramp offsets and the deadline count from it in every thread. */
  readonly startEpochMs: number;
  /** Run length in ms. */
  readonly durationMs: number;
  readonly loops: number;
  /** Keep the per-second timeline (the HTML report). */
  readonly timeline: boolean;
  /** Build the P.1203 input lines (from each session's played segments). */
  readonly p1203: boolean;
  /** Float64 words (progress.ts). */
  readonly progress: SharedArrayBuffer;
}

export interface LoadTaskResult {
  readonly players: PlayerRecord[];
  /** Segment throughput, bits/s (load-summary.ts encoding). */
  readonly throughput: string;
  readonly timeline: TimelineData | null;
  /** P.1203 input lines (p1203-input.ts), when asked for, and how many cannot be scored as they are. */
  readonly p1203: string[];
  readonly p1203Unscorable: number;
}

export default async function runLoadTask(task: LoadTask): Promise<LoadTaskResult> {
  const started = performance.now() - (Date.now() - task.startEpochMs);
  const deadline = started + task.durationMs;
  const progress = new Float64Array(task.progress);
  // This task's own block: one writer, JS-single-threaded; the main thread only reads.
  const addAt = (index: number, value: number): void => {
    progress[index] = progress[index]! + value;
  };
  const add = (word: ProgressWord, value: number): void => addAt(PROGRESS[word], value);
  const throughput = newHistogram();
  const timeline = task.timeline ? new RunTimeline(task.durationMs) : null;
  const since = (): number => performance.now() - started;
  const p1203: string[] = [];
  let p1203Unscorable = 0;
  const players = await Promise.all(
    task.players.map(async (spec) => {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + spec.startOffsetMs - performance.now())));
      add('active', 1);
      timeline?.active(since(), 1);
      try {
        const record = await runPlayer(spec.id, {
          url: task.url,
          abr: task.abr,
          buffer: task.buffer,
          source: spec.source,
          clientId: spec.clientId,
          cmcd: task.cmcd,
          runStart: started,
          deadline,
          loops: task.loops,
          keepPlayedMedia: task.p1203,
          onBytes: timeline === null ? (bytes) => add('bytes', bytes) : (bytes) => {
            add('bytes', bytes);
            timeline.bytes(since(), bytes);
          },
          onThroughput: (bps) => {
            throughput.recordValue(Math.max(1, Math.round(bps)));
            timeline?.throughput(since(), bps);
          },
          onStall: (fromMs, toMs) => {
            add('stalls', 1);
            timeline?.stalled(fromMs, toMs);
          },
          onRendition: (from, to) => {
            const at = timeline === null ? 0 : since();
            if (from !== null) {
              addAt(rungWord(from), -1);
              timeline?.rung(at, from, -1);
            }
            if (to !== null) {
              addAt(rungWord(to), 1);
              timeline?.rung(at, to, 1);
            }
          },
        });
        // The played segments become P.1203 lines here: records cross to the main thread lean.
        if (task.p1203) {
          const { lines, unscorable } = p1203Lines(record);
          p1203.push(...lines);
          p1203Unscorable += unscorable;
        }
        return { ...record, sessions: record.sessions.map(({ playedMedia: _played, ...session }) => session) };
      } finally {
        add('active', -1);
        timeline?.active(since(), -1);
      }
    }),
  );
  return { players, throughput: encodeHistogram(throughput), timeline: timeline?.data() ?? null, p1203, p1203Unscorable };
}
