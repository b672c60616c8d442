/**
 * Side-by-side autocannon measurements shared by the request benchmarks: a media library, and
 * interleaved rounds (every target measured in turn, so machine noise hits all alike) reduced to
 * medians of req/s, MB/s, latency and the target's CPU per request.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, copyFileSync, mkdtempSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_MEDIA } from '../../test/helpers/server-process.js';
import { measureAll as measureRounds, type Measurement, type RoundOptions, type Scenario, type Target as BenchTarget } from '../../src/benchmark/autocannon-rounds.js';
import { treeCpuSeconds } from './process-cpu.js';
import { fmt } from './table.js';

export type { Measurement, Scenario } from '../../src/benchmark/autocannon-rounds.js';

/** Connections per measurement of the request benchmarks (BENCH_CONNECTIONS, default 50). */
export const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);

/** Rounds as the environment sets them: BENCH_DURATION, BENCH_ROUNDS, BENCH_CLIENT_WORKERS. */
export const ROUNDS_FROM_ENV: RoundOptions = {
  duration: Number(process.env.BENCH_DURATION ?? 4),
  rounds: Number(process.env.BENCH_ROUNDS ?? 3),
  clientWorkers: Number(process.env.BENCH_CLIENT_WORKERS ?? 2),
};

/** The small file, the playlist and the segment of makeLibrary(), at CONNECTIONS. */
export const FILE_SCENARIOS: readonly Scenario[] = [
  { name: '1 KiB file', path: '/1k.bin', connections: CONNECTIONS },
  { name: 'master.m3u8', path: '/master.m3u8', connections: CONNECTIONS },
  { name: '317 KB .ts segment', path: '/segment.ts', connections: CONNECTIONS },
];

/** A benchmark target started here: a local process whose CPU is counted. */
export interface Target extends BenchTarget {
  /** Whose CPU is counted (with its children). */
  readonly pid: number;
  stop(): Promise<unknown>;
}

/**
 * A library of the benchmark files: 1k.bin, master.m3u8, segment.ts (317 KB, from the demo
 * media) and, when asked, 256m.bin of real bytes (not sparse: every server reads the same
 * page-cache pages). Readable by nginx's unprivileged workers.
 */
export function makeLibrary(withLargeFile: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'mediacast-bench-'));
  writeFileSync(join(dir, '1k.bin'), randomBytes(1024));
  copyFileSync(join(DEMO_MEDIA, 'master.m3u8'), join(dir, 'master.m3u8'));
  copyFileSync(join(DEMO_MEDIA, 'v2', 'seg_000.ts'), join(dir, 'segment.ts'));
  if (withLargeFile) {
    const fd = openSync(join(dir, '256m.bin'), 'w');
    const block = randomBytes(1024 * 1024);
    for (let i = 0; i < 256; i++) writeSync(fd, block);
    closeSync(fd);
  }
  chmodSync(dir, 0o755);
  return dir;
}

/** Medians per `scenario|target` name, printing each as it is known; CPU read from each target's process. */
export function measureAll(targets: readonly Target[], scenarios: readonly Scenario[], options: RoundOptions): Promise<Map<string, Measurement>> {
  return measureRounds(
    targets.map((target) => ({ ...target, cpuSeconds: () => treeCpuSeconds(target.pid) })),
    scenarios,
    options,
  );
}

/** The columns every request benchmark prints for a measurement. */
export function measurementCells(m: Measurement): string[] {
  return [fmt.int(m.reqPerSec), fmt.mb(m.bytesPerSec), fmt.ms(m.p50), fmt.ms(m.p99), Number.isFinite(m.cpuPerRequestUs) ? m.cpuPerRequestUs.toFixed(1) : '-', String(m.errors)];
}

export const MEASUREMENT_HEADER = ['req/s', 'MB/s', 'p50 ms', 'p99 ms', 'CPU us/req', 'errors'] as const;
