/**
 * `npm run bench:shaping`: shaping accuracy, smoothness, fairness and cost. For 1, 10, 100 and
 * 1000 concurrent backlogged clients on distinct loopback addresses (127.0.x.y), with 1 and 2
 * workers: per-client limits, a shared server limit, per-connection limits side by side with
 * nginx `limit_rate` (when installed), 50 connections of one address, a high limit for raw
 * shaped throughput, 200 clients at 500 kB/s beside an unshaped reference (20 full-speed clients
 * of the same file, in the same run: the CPU a shaped byte costs against an unshaped one), and
 * 10,000 clients at 10 kB/s. Clients run in piscina worker threads; the server in its own process.
 *
 * Environment: BENCH_DURATION (seconds per case, default 10), BENCH_CASES (comma-separated
 * substrings of case names to run), BENCH_WORKERS (e.g. "1" or "1,2"; default "1,2").
 */
import { mkdtempSync, rmSync, truncateSync, writeFileSync, chmodSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import { startCli } from '../test/helpers/server-process.js';
import type { ClientGroupResult, ClientGroupTask } from './support/client-worker.js';
import { findNginx, startNginx } from './support/nginx.js';
import { treeCpuSeconds } from './support/process-cpu.js';
import { allowedBytes, judge, timelines, type ConfiguredLimits, type ShapingVerdict } from './support/shaping-analysis.js';
import { fmt, formatTable } from './support/table.js';
import { startHelper } from './support/helper-process.js';

const DURATION_MS = Number(process.env.BENCH_DURATION ?? 10) * 1000;
const CASE_FILTER = (process.env.BENCH_CASES ?? '').split(',').filter(Boolean);
const WORKER_COUNTS = (process.env.BENCH_WORKERS ?? '1,2').split(',').map(Number);
const CLIENT_THREADS = 2;

interface Case {
  readonly name: string;
  readonly clients: number;
  /** Connections per source address. */
  readonly perAddress?: number;
  /** mediacast shaping options. */
  readonly shape: string[];
  /** The same limits as numbers (bursts default to one second of their rate). */
  readonly limits: ConfiguredLimits;
  /** Steady rate each client should get, bytes/s. */
  readonly share: number;
  /** Also run against nginx with this per-connection limit_rate. */
  readonly nginxLimitRate?: number;
  /** A limit far above what the machine can do: only the achieved throughput matters. */
  readonly throughputOnly?: boolean;
  /** Name of the unshaped case whose CPU per byte this one is compared with. */
  readonly referenceCase?: string;
  /** More server options (a connection cap above the default, for 10,000 clients). */
  readonly serverArgs?: string[];
  /** Not mediacast: uWS alone writing `chunk` bytes every `intervalMs` to each client (the floor). */
  readonly floor?: { readonly chunk: number; readonly intervalMs: number };
}

const clientLimit = (rate: number): ConfiguredLimits => ({ serverRate: 0, serverBurst: 0, clientRate: rate, clientBurst: rate });
const serverLimit = (rate: number): ConfiguredLimits => ({ serverRate: rate, serverBurst: rate, clientRate: rate, clientBurst: rate });

function perClient(clients: number, rate: number): Case {
  return { name: `per-IP ${fmtRate(rate)} x ${clients}`, clients, shape: ['--shape', `-,${rate}`], limits: clientLimit(rate), share: rate };
}

function serverWide(clients: number, rate: number): Case {
  return { name: `server ${fmtRate(rate)} / ${clients}`, clients, shape: ['--shape', `${rate}`], limits: serverLimit(rate), share: rate / clients };
}

function perConnection(clients: number, rate: number): Case {
  return {
    name: `per-connection ${fmtRate(rate)} x ${clients}`,
    clients,
    shape: ['--shape', `-,${rate}`, '--shape-by', 'connection'],
    limits: clientLimit(rate),
    share: rate,
    nginxLimitRate: rate,
  };
}

const UNSHAPED_REFERENCE = 'unshaped x 20 (reference for 500 kB/s x 200)';

const CASES: Case[] = [
  { name: UNSHAPED_REFERENCE, clients: 20, shape: [], limits: serverLimit(1e12), share: 1e12 / 20, throughputOnly: true },
  { ...perClient(200, 500_000), referenceCase: UNSHAPED_REFERENCE },
  {
    name: 'floor: uWS alone, 5,000 B every 10 ms (500 kB/s x 200)',
    clients: 200,
    shape: [],
    limits: clientLimit(500_000),
    share: 500_000,
    throughputOnly: true,
    referenceCase: UNSHAPED_REFERENCE,
    floor: { chunk: 5000, intervalMs: 10 },
  },
  { ...perClient(10_000, 10_000), serverArgs: ['--max-connections', '10100'] },
  {
    name: 'floor: uWS alone, 1,024 B every 102 ms (10 kB/s x 1000)',
    clients: 1000,
    shape: [],
    limits: clientLimit(10_000),
    share: 10_000,
    throughputOnly: true,
    floor: { chunk: 1024, intervalMs: 102 },
  },
  perClient(1, 1_000_000),
  perClient(10, 100_000),
  perClient(100, 100_000),
  perClient(1000, 10_000),
  serverWide(1, 1_000_000),
  serverWide(10, 1_000_000),
  serverWide(100, 5_000_000),
  serverWide(1000, 10_000_000),
  perConnection(1, 100_000),
  perConnection(10, 100_000),
  perConnection(100, 100_000),
  perConnection(1000, 10_000),
  {
    name: 'one IP, 50 connections, per-IP 1 MB/s',
    clients: 50,
    perAddress: 50,
    shape: ['--shape', '-,1000000'],
    limits: clientLimit(1_000_000),
    share: 20_000,
  },
  {
    name: 'high limit 10 GB/s, 8 clients',
    clients: 8,
    shape: ['--shape', '10GB,10GB'],
    limits: serverLimit(1e10),
    share: 1e10 / 8,
    throughputOnly: true,
  },
];

function fmtRate(bytesPerSec: number): string {
  return bytesPerSec >= 1e6 ? `${bytesPerSec / 1e6} MB/s` : `${bytesPerSec / 1e3} kB/s`;
}

/** 127.0.x.y addresses from 127.0.0.2 on, `perAddress` clients each. */
function sourceAddresses(clients: number, perAddress: number): string[] {
  return Array.from({ length: clients }, (_, i) => {
    const n = Math.floor(i / perAddress) + 2;
    return `127.0.${Math.floor(n / 256)}.${n % 256}`;
  });
}

interface Row {
  readonly caseName: string;
  readonly throughputOnly: boolean;
  readonly server: string;
  readonly verdict: ShapingVerdict;
  readonly configured: number;
  readonly cpuPct: number;
  /** Server CPU seconds per GB of body delivered. */
  readonly cpuPerGb: number;
  readonly bytesPerWrite: number | null;
}

async function runClients(pool: Piscina, url: string, c: Case): Promise<ClientGroupResult[]> {
  const { hostname, port } = new URL(url);
  const addresses = sourceAddresses(c.clients, c.perAddress ?? 1);
  const threads = Math.min(CLIENT_THREADS, c.clients);
  const startAt = Date.now() + 300;
  const tasks: ClientGroupTask[] = Array.from({ length: threads }, (_, t) => ({
    host: hostname,
    port: Number(port),
    path: '/big.bin',
    sourceAddresses: addresses.filter((_, i) => i % threads === t),
    startAt,
    durationMs: DURATION_MS,
    tickMs: 100,
  }));
  return Promise.all(tasks.map((task) => pool.run(task) as Promise<ClientGroupResult>));
}

async function measure(
  pool: Piscina,
  c: Case,
  server: { url: string; pid: number },
  serverName: string,
  limits: ConfiguredLimits = c.limits,
): Promise<Omit<Row, 'bytesPerWrite'>> {
  const cpuBefore = treeCpuSeconds(server.pid);
  const groups = await runClients(pool, server.url, c);
  const cpu = treeCpuSeconds(server.pid) - cpuBefore;
  const failures = groups.reduce((sum, g) => sum + g.failures, 0);
  const clients = timelines(groups);
  const configured = allowedBytes(clients, limits, c.perAddress ?? 1);
  const verdict = judge(clients, failures, configured, c.share, 2000);
  return {
    caseName: c.name,
    throughputOnly: c.throughputOnly === true,
    server: serverName,
    verdict,
    configured,
    // The clients ran DURATION_MS plus the start delay; CPU is charged over the measured time.
    cpuPct: (cpu / verdict.elapsedSec) * 100,
    cpuPerGb: verdict.aggregateBytes === 0 ? 0 : cpu / (verdict.aggregateBytes / 1e9),
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mediacast-shaping-bench-'));
  writeFileSync(join(dir, 'big.bin'), '');
  truncateSync(join(dir, 'big.bin'), 64 * 1024 ** 3);
  chmodSync(dir, 0o755);
  const nginx = findNginx();
  const pool = new Piscina({
    filename: new URL('./support/client-worker.js', import.meta.url).href,
    minThreads: CLIENT_THREADS,
    maxThreads: CLIENT_THREADS,
    concurrentTasksPerWorker: 2,
  });
  console.log(`shaping benchmark: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} CPUs, Node ${process.version}`);
  console.log(`${DURATION_MS / 1000} s per case, clients in ${CLIENT_THREADS} piscina threads, windows judged from 2 s on`);
  if (!nginx) console.log('nginx is not installed: skipping the limit_rate comparison (apt-get install nginx-light)');
  const rows: Row[] = [];
  try {
    for (const c of CASES.filter((k) => CASE_FILTER.length === 0 || CASE_FILTER.some((f) => k.name.includes(f)))) {
      if (c.floor) {
        const floor = await startHelper('write-floor.js', [String(c.floor.chunk), String(c.floor.intervalMs)]);
        try {
          rows.push({ ...(await measure(pool, c, floor, 'uWS alone')), bytesPerWrite: c.floor.chunk });
          report(rows[rows.length - 1]!);
        } finally {
          await floor.stop();
        }
        continue;
      }
      for (const workers of WORKER_COUNTS) {
        const server = await startCli(['--path', dir, '--workers', String(workers), ...c.shape, ...(c.serverArgs ?? [])]);
        let row: Omit<Row, 'bytesPerWrite'>;
        try {
          row = await measure(pool, c, server, `mediacast ${workers}w`);
        } finally {
          await server.stop();
        }
        const summary = /shaped ([\d,]+) B in ([\d,]+) writes/.exec(server.stdout());
        const bytesPerWrite = summary ? Number(summary[1]!.replace(/,/g, '')) / Number(summary[2]!.replace(/,/g, '')) : null;
        rows.push({ ...row, bytesPerWrite });
        report(rows[rows.length - 1]!);
      }
      if (nginx && c.nginxLimitRate) {
        const server = await startNginx(nginx, { root: dir, limitRate: c.nginxLimitRate });
        try {
          // limit_rate has no burst (limit_rate_after is 0): judge nginx by its own semantics.
          const nginxLimits = { ...c.limits, clientBurst: 0 };
          rows.push({ ...(await measure(pool, c, server, 'nginx limit_rate', nginxLimits)), bytesPerWrite: null });
          report(rows[rows.length - 1]!);
        } finally {
          await server.stop();
        }
      }
    }
  } finally {
    await pool.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log();
  console.log(
    formatTable(
      ['case', 'server', 'configured B', 'achieved B', 'error', 'client B/s mean', 'min', 'max', 'Jain', 'worst 1 s', 'worst 100 ms', 'B/write', 'CPU', 'CPU s/GB', 'failed'],
      rows.map((r) => [
        r.caseName,
        r.server,
        r.throughputOnly ? '-' : fmt.int(r.configured),
        fmt.int(r.verdict.aggregateBytes),
        r.throughputOnly ? `${fmt.mb(r.verdict.aggregateBytes / r.verdict.elapsedSec)} MB/s` : fmt.pct(r.verdict.aggregateErrorPct),
        fmt.int(r.verdict.meanClientRate),
        fmt.int(r.verdict.minClientRate),
        fmt.int(r.verdict.maxClientRate),
        r.verdict.jain.toFixed(4),
        fmt.pct(r.verdict.worstSecondPct),
        fmt.pct(r.verdict.worst100msPct),
        r.bytesPerWrite === null ? '-' : fmt.int(r.bytesPerWrite),
        `${r.cpuPct.toFixed(1)}%`,
        r.cpuPerGb.toFixed(2),
        String(r.verdict.failures),
      ]),
    ),
  );
  for (const c of CASES.filter((k) => k.referenceCase !== undefined)) {
    for (const row of rows.filter((r) => r.caseName === c.name)) {
      // The floor runs once, on one thread: it compares with the one-worker reference.
      const referenceServer = row.server === 'uWS alone' ? 'mediacast 1w' : row.server;
      const reference = rows.find((r) => r.caseName === c.referenceCase && r.server === referenceServer);
      if (reference && reference.cpuPerGb > 0) {
        console.log(
          `${c.name} [${row.server}]: a shaped byte costs ${(row.cpuPerGb / reference.cpuPerGb).toFixed(2)}x the CPU of an unshaped one ` +
            `(${row.cpuPerGb.toFixed(2)} vs ${reference.cpuPerGb.toFixed(2)} CPU-s per GB, same file, same run)`,
        );
      }
    }
  }
  console.log("\nerror: achieved vs what the limits allow (each client's burst + rate x time since its first byte; the server's likewise).");
  console.log("Windows: largest deviation of one client's rate from its share over any 1 s / 100 ms window, from 2 s on.");
  console.log('CPU: server process CPU time / elapsed (100% = one core).');
}

function report(r: Row): void {
  const accuracy = r.throughputOnly
    ? `${fmt.mb(r.verdict.aggregateBytes / r.verdict.elapsedSec)} MB/s shaped`
    : `error ${fmt.pct(r.verdict.aggregateErrorPct)}`;
  console.log(
    `  ${r.caseName} [${r.server}]: ${accuracy}, Jain ${r.verdict.jain.toFixed(4)}, ` +
      `worst 1 s ${fmt.pct(r.verdict.worstSecondPct)}, worst 100 ms ${fmt.pct(r.verdict.worst100msPct)}, ` +
      `${r.bytesPerWrite === null ? '-' : fmt.int(r.bytesPerWrite)} B/write, CPU ${r.cpuPct.toFixed(1)}% (${r.cpuPerGb.toFixed(2)} CPU-s/GB)`,
  );
}

await main();
