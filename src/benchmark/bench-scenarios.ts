/**
 * The scenarios of `mediacast bench`, as paths of the demo library's layout (any server that
 * serves a copy of it, or the bundled demo): a small file, the master playlist, a segment, a
 * range of a segment, and a large file over one connection.
 */
import type { Scenario } from './autocannon-rounds.js';

export const BENCH_SCENARIOS = ['small', 'playlist', 'segment', 'range', 'large'] as const;
export type BenchScenarioName = (typeof BENCH_SCENARIOS)[number];

/** The large file the bundled demo gets for the `large` scenario. */
export const LARGE_FILE = 'large.bin';
export const LARGE_FILE_BYTES = 64 * 1024 * 1024;

export function benchScenario(name: BenchScenarioName, connections: number): Scenario {
  switch (name) {
    case 'small':
      return { name, path: 'v0/index.m3u8', connections };
    case 'playlist':
      return { name, path: 'master.m3u8', connections };
    case 'segment':
      return { name, path: 'v2/seg_000.ts', connections };
    case 'range':
      return { name, path: 'v2/seg_000.ts', connections, headers: { range: 'bytes=0-65535' } };
    case 'large':
      return { name, path: LARGE_FILE, connections: 1 };
  }
}

/** `small,segment` into scenario names; an unknown one is named in the error. */
export function parseScenarioList(text: string): BenchScenarioName[] {
  const names = text.split(',').map((name) => name.trim()).filter(Boolean);
  for (const name of names) {
    if (!(BENCH_SCENARIOS as readonly string[]).includes(name)) {
      throw new Error(`--scenarios: unknown scenario "${name}" (expected ${BENCH_SCENARIOS.join(', ')})`);
    }
  }
  if (names.length === 0) throw new Error('--scenarios: no scenario given');
  return names as BenchScenarioName[];
}
