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
import { rmSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { startCli } from '../test/helpers/server-process.js';
import { findNginx, startNginx } from './support/nginx.js';
import { CONNECTIONS, FILE_SCENARIOS, makeLibrary, measureAll, measurementCells, MEASUREMENT_HEADER, ROUNDS_FROM_ENV, type Scenario, type Target } from './support/rounds.js';
import { fmt, formatTable } from './support/table.js';

const { duration: DURATION, rounds: ROUNDS, clientWorkers: CLIENT_WORKERS } = ROUNDS_FROM_ENV;

const SCENARIOS: readonly Scenario[] = [...FILE_SCENARIOS, { name: '256 MiB file', path: '/256m.bin', connections: 1 }];

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
  const library = makeLibrary(true);
  const nginxBinary = findNginx();
  console.log(`static benchmark: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} CPUs, Node ${process.version}`);
  console.log(
    `${ROUNDS} interleaved rounds of ${DURATION} s per scenario and server (medians), ${CONNECTIONS} connections, ` +
      `${CLIENT_WORKERS} autocannon worker threads`,
  );
  if (!nginxBinary) console.log('nginx is not installed: skipping the nginx comparison (apt-get install nginx-light)');
  const targets = await startTargets(library, nginxBinary);
  let results;
  try {
    results = await measureAll(targets, SCENARIOS, ROUNDS_FROM_ENV);
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
        ...measurementCells(m),
        reference ? fmt.ratio(m.reqPerSec / reference.reqPerSec) : '-',
        reference ? fmt.ratio(m.bytesPerSec / reference.bytesPerSec) : '-',
        reference ? fmt.ratio(reference.cpuPerRequestUs / m.cpuPerRequestUs) : '-',
      ]);
    }
  }
  console.log();
  console.log(
    formatTable(
      ['scenario', 'server', ...MEASUREMENT_HEADER, 'req/s vs nginx', 'MB/s vs nginx', 'CPU efficiency vs nginx'],
      rows,
    ),
  );
  console.log('\nCPU efficiency = nginx CPU per request / this server\'s CPU per request (higher is better).');
}

await main();
