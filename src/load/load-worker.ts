/**
 * A piscina worker of `mediacast load`: runs its share of the players as async sessions, counts
 * live progress into shared memory, and returns once, at the end, their records and one
 * throughput histogram (never a message per sample).
 */
import type { AbrOptions } from './abr.js';
import { encodeHistogram, newHistogram } from './load-summary.js';
import type { BufferOptions } from './playback-buffer.js';
import { runPlayer, type PlayerRecord } from './player.js';
import { PROGRESS, type ProgressWord } from './progress.js';

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
  /** Float64 words (progress.ts). */
  readonly progress: SharedArrayBuffer;
}

export interface LoadTaskResult {
  readonly players: PlayerRecord[];
  /** Segment throughput, bits/s (load-summary.ts encoding). */
  readonly throughput: string;
}

export default async function runLoadTask(task: LoadTask): Promise<LoadTaskResult> {
  const started = performance.now() - (Date.now() - task.startEpochMs);
  const deadline = started + task.durationMs;
  const progress = new Float64Array(task.progress);
  const add = (word: ProgressWord, value: number): void => {
    // This task's own block: one writer, JS-single-threaded; the main thread only reads.
    progress[PROGRESS[word]] = progress[PROGRESS[word]]! + value;
  };
  const throughput = newHistogram();
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
          deadline,
          loops: task.loops,
          onBytes: (bytes) => add('bytes', bytes),
          onThroughput: (bps) => throughput.recordValue(Math.max(1, Math.round(bps))),
          onStall: () => add('stalls', 1),
        });
      } finally {
        add('active', -1);
      }
    }),
  );
  return { players, throughput: encodeHistogram(throughput) };
}
