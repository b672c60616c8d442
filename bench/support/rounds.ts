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
import { runAutocannon } from './load.js';
import { treeCpuSeconds } from './process-cpu.js';
import { fmt } from './table.js';

export interface Scenario {
  readonly name: string;
  readonly path: string;
  readonly connections: number;
}

export interface Target {
  readonly name: string;
  readonly url: string;
  /** Whose CPU is counted (with its children). */
  readonly pid: number;
  stop(): Promise<unknown>;
}

export interface Measurement {
  readonly reqPerSec: number;
  readonly bytesPerSec: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  /** Target CPU microseconds per request. */
  readonly cpuPerRequestUs: number;
}

export interface RoundOptions {
  readonly duration: number;
  readonly rounds: number;
  readonly clientWorkers: number;
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

async function measure(target: Target, scenario: Scenario, options: RoundOptions): Promise<Measurement> {
  const cpuBefore = treeCpuSeconds(target.pid);
  const result = await runAutocannon({
    url: new URL(scenario.path, target.url).href,
    connections: scenario.connections,
    duration: options.duration,
    workers: Math.min(options.clientWorkers, scenario.connections),
  });
  const cpu = treeCpuSeconds(target.pid) - cpuBefore;
  return {
    reqPerSec: result.requests.average,
    bytesPerSec: result.throughput.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx + result.timeouts,
    cpuPerRequestUs: (cpu / result.requests.total) * 1e6,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function medianOf(runs: Measurement[]): Measurement {
  const pick = (key: keyof Measurement): number => median(runs.map((r) => r[key]));
  return {
    reqPerSec: pick('reqPerSec'),
    bytesPerSec: pick('bytesPerSec'),
    p50: pick('p50'),
    p99: pick('p99'),
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
    cpuPerRequestUs: pick('cpuPerRequestUs'),
  };
}

/** Medians per `scenario|target` name, printing each as it is known. */
export async function measureAll(targets: readonly Target[], scenarios: readonly Scenario[], options: RoundOptions): Promise<Map<string, Measurement>> {
  const results = new Map<string, Measurement>();
  for (const scenario of scenarios) {
    const runs = new Map<string, Measurement[]>(targets.map((t) => [t.name, []]));
    for (let round = 0; round < options.rounds; round++) {
      for (const target of targets) runs.get(target.name)!.push(await measure(target, scenario, options));
    }
    for (const target of targets) {
      const m = medianOf(runs.get(target.name)!);
      results.set(`${scenario.name}|${target.name}`, m);
      console.log(`  ${scenario.name}, ${target.name}: ${fmt.int(m.reqPerSec)} req/s, ${fmt.mb(m.bytesPerSec)} MB/s`);
    }
  }
  return results;
}

/** The columns every request benchmark prints for a measurement. */
export function measurementCells(m: Measurement): string[] {
  return [fmt.int(m.reqPerSec), fmt.mb(m.bytesPerSec), fmt.ms(m.p50), fmt.ms(m.p99), Number.isFinite(m.cpuPerRequestUs) ? m.cpuPerRequestUs.toFixed(1) : '-', String(m.errors)];
}

export const MEASUREMENT_HEADER = ['req/s', 'MB/s', 'p50 ms', 'p99 ms', 'CPU us/req', 'errors'] as const;
