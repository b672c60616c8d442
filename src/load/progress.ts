/**
 * Live progress of a load run in shared memory, one Float64 word per figure per worker thread
 * (each thread writes its own block; the main thread sums them for the progress line).
 */
export const PROGRESS = { active: 0, bytes: 1, stalls: 2 } as const;
export type ProgressWord = keyof typeof PROGRESS;
const WORDS = 3;

export function createProgress(): SharedArrayBuffer {
  return new SharedArrayBuffer(WORDS * Float64Array.BYTES_PER_ELEMENT);
}

export function readProgress(blocks: readonly SharedArrayBuffer[]): Record<ProgressWord, number> {
  const total = { active: 0, bytes: 0, stalls: 0 };
  for (const block of blocks) {
    const words = new Float64Array(block);
    total.active += words[PROGRESS.active]!;
    total.bytes += words[PROGRESS.bytes]!;
    total.stalls += words[PROGRESS.stalls]!;
  }
  return total;
}
