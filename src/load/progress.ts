/**
 * Live progress of a load run in shared memory, one Float64 word per figure per worker thread
 * (each thread writes its own block; the main thread sums them for the progress line): players
 * active, bytes, stalls, and how many players fetch each rung (lowest first; rungs past the
 * RUNGS-th are counted in the last).
 */
export const PROGRESS = { active: 0, bytes: 1, stalls: 2 } as const;
export type ProgressWord = keyof typeof PROGRESS;
export const RUNGS = 16;
const FIRST_RUNG = 3;
const WORDS = FIRST_RUNG + RUNGS;

export interface Progress {
  readonly active: number;
  readonly bytes: number;
  readonly stalls: number;
  /** Players fetching each rung, lowest first, up to the highest rung in use. */
  readonly rungs: readonly number[];
}

export function createProgress(): SharedArrayBuffer {
  return new SharedArrayBuffer(WORDS * Float64Array.BYTES_PER_ELEMENT);
}

/** The word of `rung` in a progress block. */
export const rungWord = (rung: number): number => FIRST_RUNG + Math.min(rung, RUNGS - 1);

export function readProgress(blocks: readonly SharedArrayBuffer[]): Progress {
  let active = 0;
  let bytes = 0;
  let stalls = 0;
  const rungs = new Array<number>(RUNGS).fill(0);
  for (const block of blocks) {
    const words = new Float64Array(block);
    active += words[PROGRESS.active]!;
    bytes += words[PROGRESS.bytes]!;
    stalls += words[PROGRESS.stalls]!;
    for (let i = 0; i < RUNGS; i++) rungs[i]! += words[FIRST_RUNG + i]!;
  }
  let top = RUNGS;
  while (top > 0 && rungs[top - 1] === 0) top--;
  return { active, bytes, stalls, rungs: rungs.slice(0, top) };
}
