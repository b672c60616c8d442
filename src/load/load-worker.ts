/**
 * A piscina worker of `mediacast load`: runs its share of the players as async sessions, counts
 * live progress into shared memory, and returns once, at the end, their records, one throughput
 * histogram and one timeline (never a message per sample).
 */
import type { AbrOptions } from './abr.js';
import { encodeHistogram, newHistogram } from './load-summary.js';
import type { BufferOptions } from './playback-buffer.js';
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
  /** Keep each session's played segments (the P.1203 input). */
  readonly keepPlayedMedia: boolean;
  /** Float64 words (progress.ts). */
  readonly progress: SharedArrayBuffer;
}

export interface LoadTaskResult {
  readonly players: PlayerRecord[];
  /** Segment throughput, bits/s (load-summary.ts encoding). */
  readonly throughput: string;
  readonly timeline: TimelineData;
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
  const timeline = new RunTimeline(task.durationMs);
  const players = await Promise.all(
    task.players.map(async (spec) => {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + spec.startOffsetMs - performance.now())));
      add('active', 1);
      try {
        return await runPlayer(spec.id, {
          url: task.url,
          abr: task.abr,
          buffer: task.buffer,
          source: spec.source,
          clientId: spec.clientId,
          cmcd: task.cmcd,
          runStart: started,
          deadline,
          loops: task.loops,
          keepPlayedMedia: task.keepPlayedMedia,
          onBytes: (bytes) => {
            add('bytes', bytes);
            timeline.bytes(performance.now() - started, bytes);
          },
          onThroughput: (bps) => {
            throughput.recordValue(Math.max(1, Math.round(bps)));
            timeline.throughput(performance.now() - started, bps);
          },
          onStall: () => add('stalls', 1),
          onRendition: (from, to) => {
            if (from !== null) addAt(rungWord(from), -1);
            if (to !== null) addAt(rungWord(to), 1);
          },
        });
      } finally {
        add('active', -1);
      }
    }),
  );
  return { players, throughput: encodeHistogram(throughput), timeline: timeline.data() };
}
