/**
 * `npm run bench:proxy`: the reverse proxy under autocannon, side by side in one run. One origin
 * (nginx when installed, else this server) holds the files; measured in turn: the origin directly,
 * mediacast serving the same files itself, mediacast proxying to the origin (unshaped, and shaped
 * with limits that never bind, to show the pacer's own cost), and nginx proxy_pass (1 worker,
 * keep-alive upstream, proxy_http_version 1.1) when installed. CPU is each target's own (the
 * origin's is not counted for the proxies). Targets: proxied req/s at least nginx proxy_pass's;
 * a proxied segment at most 1.5x the CPU of serving it directly.
 *
 * Environment: BENCH_DURATION (seconds per measurement, default 4), BENCH_ROUNDS (default 3),
 * BENCH_CONNECTIONS (default 50), BENCH_CLIENT_WORKERS (autocannon worker threads, default 2).
 */
import { rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { startCli } from '../test/helpers/server-process.js';
import { findNginx, startNginx } from './support/nginx.js';
import { CONNECTIONS, FILE_SCENARIOS, makeLibrary, measureAll, measurementCells, MEASUREMENT_HEADER, ROUNDS_FROM_ENV, type Target } from './support/rounds.js';
import { fmt, formatTable } from './support/table.js';

const { duration: DURATION, rounds: ROUNDS } = ROUNDS_FROM_ENV;

const SCENARIOS = FILE_SCENARIOS;

const DIRECT = 'mediacast direct';
const PROXY = 'mediacast proxy';
const SHAPED = 'mediacast proxy, shaped';
const NGINX_PROXY = 'nginx proxy_pass';

async function mediacast(name: string, args: readonly string[]): Promise<Target> {
  const server = await startCli(['--workers', '1', ...args]);
  return { name, url: server.url, pid: server.pid, stop: () => server.stop() };
}

async function main(): Promise<void> {
  const library = makeLibrary(false);
  const nginxBinary = findNginx();
  console.log(`proxy benchmark: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} CPUs, Node ${process.version}`);
  console.log(`${ROUNDS} interleaved rounds of ${DURATION} s per scenario and target (medians), ${CONNECTIONS} connections, 1 worker each`);
  if (!nginxBinary) console.log('nginx is not installed: the origin is mediacast, and there is no nginx proxy_pass to compare with (apt-get install nginx-light)');
  const targets: Target[] = [];
  try {
    const origin = nginxBinary
      ? await (async () => {
          const nginx = await startNginx(nginxBinary, { root: library });
          return { name: 'origin (nginx) direct', url: nginx.url, pid: nginx.pid, stop: () => nginx.stop() };
        })()
      : await mediacast('origin (mediacast) direct', ['--path', library]);
    const originPort = new URL(origin.url).port;
    targets.push(origin);
    if (nginxBinary) targets.push(await mediacast(DIRECT, ['--path', library]));
    targets.push(await mediacast(PROXY, ['--reverse', `127.0.0.1,${originPort}`]));
    targets.push(await mediacast(SHAPED, ['--reverse', `127.0.0.1,${originPort}`, '--shape', '100GB,50GB']));
    if (nginxBinary) {
      const proxy = await startNginx(nginxBinary, {
        root: library,
        httpDirectives: `upstream origin { server 127.0.0.1:${originPort}; keepalive 64; }`,
        serverDirectives: 'location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering on; }',
      });
      targets.push({ name: NGINX_PROXY, url: proxy.url, pid: proxy.pid, stop: () => proxy.stop() });
    }
    const results = await measureAll(targets, SCENARIOS, ROUNDS_FROM_ENV);
    const rows: string[][] = [];
    for (const scenario of SCENARIOS) {
      const at = (name: string) => results.get(`${scenario.name}|${name}`);
      const nginxProxy = at(NGINX_PROXY);
      const direct = at(DIRECT) ?? at(targets[0]!.name)!;
      for (const target of targets) {
        const m = at(target.name)!;
        const proxied = target.name === PROXY || target.name === SHAPED;
        rows.push([
          scenario.name,
          target.name,
          ...measurementCells(m),
          proxied && nginxProxy ? fmt.ratio(m.reqPerSec / nginxProxy.reqPerSec) : '-',
          proxied ? fmt.ratio(m.cpuPerRequestUs / direct.cpuPerRequestUs) : '-',
        ]);
      }
    }
    console.log();
    console.log(formatTable(['scenario', 'target', ...MEASUREMENT_HEADER, 'req/s vs nginx proxy', 'CPU/req vs direct'], rows));
    console.log(`\nCPU/req vs direct: the proxy's CPU per request over ${nginxBinary ? DIRECT : 'the origin'}'s for the same file (target: at most 1.5x for segments).`);
  } finally {
    for (const target of targets.reverse()) await target.stop();
    rmSync(library, { recursive: true, force: true });
  }
}

await main();
