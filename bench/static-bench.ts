/**
 * `npm run bench:static`: unshaped static serving under autocannon, side by side in one run:
 * mediacast with 1 worker, nginx (1 worker process, sendfile on, access log off) when installed,
 * and mediacast with the default worker count. All servers run at once; each scenario measures
 * them in turn for several rounds (interleaved, so machine noise hits all alike) and reports
 * medians: req/s, MB/s, latency p50/p99, server CPU per request, and ratios to nginx.
 *
 * Environment: BENCH_DURATION (seconds per measurement, default 4), BENCH_ROUNDS (default 3),
 * BENCH_CONNECTIONS (default 50), BENCH_CLIENT_WORKERS (autocannon worker threads, default 2).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, copyFileSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_MEDIA, startCli } from '../test/helpers/server-process.js';
import { runAutocannon } from './support/load.js';
import { findNginx, startNginx } from './support/nginx.js';
import { treeCpuSeconds } from './support/process-cpu.js';
import { fmt, formatTable } from './support/table.js';

const DURATION = Number(process.env.BENCH_DURATION ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const CLIENT_WORKERS = Number(process.env.BENCH_CLIENT_WORKERS ?? 2);

interface Scenario {
  readonly name: string;
  readonly path: string;
  readonly connections: number;
}

const SCENARIOS: readonly Scenario[] = [
  { name: '1 KiB file', path: '/1k.bin', connections: CONNECTIONS },
  { name: 'master.m3u8', path: '/master.m3u8', connections: CONNECTIONS },
  { name: '317 KB .ts segment', path: '/segment.ts', connections: CONNECTIONS },
  { name: '256 MiB file', path: '/256m.bin', connections: 1 },
];

interface Target {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  stop(): Promise<unknown>;
}

interface Measurement {
  readonly reqPerSec: number;
  readonly bytesPerSec: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  /** Server CPU microseconds per request. */
  readonly cpuPerRequestUs: number;
}

function makeLibrary(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mediacast-bench-'));
  writeFileSync(join(dir, '1k.bin'), randomBytes(1024));
  copyFileSync(join(DEMO_MEDIA, 'master.m3u8'), join(dir, 'master.m3u8'));
  copyFileSync(join(DEMO_MEDIA, 'v2', 'seg_000.ts'), join(dir, 'segment.ts'));
  // Real bytes (not a sparse file) so both servers read the same page-cache pages.
  const fd = openSync(join(dir, '256m.bin'), 'w');
  const block = randomBytes(1024 * 1024);
  for (let i = 0; i < 256; i++) writeSync(fd, block);
  closeSync(fd);
  // nginx workers run as an unprivileged user: let them read the library.
  chmodSync(dir, 0o755);
  return dir;
}

async function measure(target: Target, scenario: Scenario): Promise<Measurement> {
  const cpuBefore = treeCpuSeconds(target.pid);
  const result = await runAutocannon({
    url: new URL(scenario.path, target.url).href,
    connections: scenario.connections,
    duration: DURATION,
    workers: Math.min(CLIENT_WORKERS, scenario.connections),
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

async function startTargets(library: string, nginxBinary: string | null): Promise<Target[]> {
  const defaultWorkers = availableParallelism();
  const targets: Target[] = [];
  const one = await startCli(['--path', library, '--workers', '1']);
  targets.push({ name: 'mediacast 1 worker', url: one.url, pid: one.pid, stop: () => one.stop() });
  if (nginxBinary) {
    const nginx = await startNginx(nginxBinary, { root: library });
    targets.push({ name: 'nginx 1 worker', url: nginx.url, pid: nginx.pid, stop: () => nginx.stop() });
  }
  const many = await startCli(['--path', library, '--workers', String(defaultWorkers)]);
  targets.push({ name: `mediacast ${defaultWorkers} workers`, url: many.url, pid: many.pid, stop: () => many.stop() });
  return targets;
}

async function main(): Promise<void> {
  const library = makeLibrary();
  const nginxBinary = findNginx();
  console.log(`static benchmark: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} CPUs, Node ${process.version}`);
  console.log(
    `${ROUNDS} interleaved rounds of ${DURATION} s per scenario and server (medians), ${CONNECTIONS} connections, ` +
      `${CLIENT_WORKERS} autocannon worker threads`,
  );
  if (!nginxBinary) console.log('nginx is not installed: skipping the nginx comparison (apt-get install nginx-light)');
  const targets = await startTargets(library, nginxBinary);
  const results = new Map<string, Measurement>();
  try {
    for (const scenario of SCENARIOS) {
      const runs = new Map<string, Measurement[]>(targets.map((t) => [t.name, []]));
      for (let round = 0; round < ROUNDS; round++) {
        for (const target of targets) runs.get(target.name)!.push(await measure(target, scenario));
      }
      for (const target of targets) {
        const m = medianOf(runs.get(target.name)!);
        results.set(`${scenario.name}|${target.name}`, m);
        console.log(`  ${scenario.name}, ${target.name}: ${fmt.int(m.reqPerSec)} req/s, ${fmt.mb(m.bytesPerSec)} MB/s`);
      }
    }
  } finally {
    for (const target of targets) await target.stop();
    rmSync(library, { recursive: true, force: true });
  }
  const rows: string[][] = [];
  for (const scenario of SCENARIOS) {
    const reference = results.get(`${scenario.name}|nginx 1 worker`);
    for (const target of targets) {
      const m = results.get(`${scenario.name}|${target.name}`)!;
      rows.push([
        scenario.name,
        target.name,
        fmt.int(m.reqPerSec),
        fmt.mb(m.bytesPerSec),
        fmt.ms(m.p50),
        fmt.ms(m.p99),
        Number.isFinite(m.cpuPerRequestUs) ? m.cpuPerRequestUs.toFixed(1) : '-',
        String(m.errors),
        reference ? fmt.ratio(m.reqPerSec / reference.reqPerSec) : '-',
        reference ? fmt.ratio(m.bytesPerSec / reference.bytesPerSec) : '-',
        reference ? fmt.ratio(reference.cpuPerRequestUs / m.cpuPerRequestUs) : '-',
      ]);
    }
  }
  console.log();
  console.log(
    formatTable(
      ['scenario', 'server', 'req/s', 'MB/s', 'p50 ms', 'p99 ms', 'CPU us/req', 'errors', 'req/s vs nginx', 'MB/s vs nginx', 'CPU efficiency vs nginx'],
      rows,
    ),
  );
  console.log('\nCPU efficiency = nginx CPU per request / this server\'s CPU per request (higher is better).');
}

await main();
