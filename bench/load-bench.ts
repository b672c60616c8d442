/**
 * `npm run bench:load`: the player simulator's own cost, with the server on the same 2-core machine.
 * (a) Scale: PLAYERS players on one simulator thread against the demo ladder, each shaped by the
 *     server to 150 kB/s per IP (its own 127.0.x.y); the simulator's CPU per player, extrapolated
 *     to players per simulator core (target: at least 2,000), and the QoE they got.
 * (b) Overhead: bytes received per simulator CPU-second, unshaped, CONNECTIONS players fetching
 *     one long VOD (the demo's 540p segment listed 3,000 times, so they download all the time
 *     with no play-out pauses), against autocannon with as many connections on the same segment
 *     in the same run (target: at least 0.8x). The simulator's figure includes its start-up. The
 *     floor under the simulator: undici alone (the HTTP client it uses), the same connections
 *     downloading the same segment in a loop, nothing else, in its own process measured alike.
 *
 * Environment: BENCH_PLAYERS (default 500), BENCH_DURATION (seconds, default 20).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI, DEMO_MEDIA, startCli } from '../test/helpers/server-process.js';
import { runAutocannon } from '../src/benchmark/autocannon-rounds.js';
import { treeCpuSeconds } from './support/process-cpu.js';
import { fmt } from './support/table.js';

const PLAYERS = Number(process.env.BENCH_PLAYERS ?? 500);
const DURATION = Number(process.env.BENCH_DURATION ?? 20);
const CONNECTIONS = 50;

interface SimulatorRun {
  readonly cpuSeconds: number;
  readonly summary: { players: number; sessions: number; stalls: number; bytes: number; failedPlayers: number; averageBitrate: number; startup: { p95: number } };
}

/** Runs a Node script as its own process: its exit code, what it printed, and its CPU (all its threads). */
async function measured(args: readonly string[]): Promise<{ code: number | null; stdout: string; cpuSeconds: number }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  let cpu = 0;
  // Sampled while it runs: once it has exited, /proc no longer has it.
  const sampler = setInterval(() => {
    const now = treeCpuSeconds(child.pid!);
    if (now > 0) cpu = now;
  }, 200);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearInterval(sampler);
  return { code, stdout, cpuSeconds: cpu };
}

/** Runs `mediacast load` as its own process and measures its CPU. */
async function simulate(args: readonly string[], dir: string): Promise<SimulatorRun> {
  const json = join(dir, `load-${Date.now()}.json`);
  const { code, cpuSeconds } = await measured([CLI, 'load', ...args, '--threads', '1', '--json', json]);
  if (code !== 0 && code !== 1) throw new Error(`mediacast load exited with ${code}`);
  const report = JSON.parse(readFileSync(json, 'utf8')) as { summary: SimulatorRun['summary'] };
  return { cpuSeconds, summary: report.summary };
}

/** undici alone, in its own process measured as the simulator is (support/undici-loop.ts). */
async function undiciFloor(url: string, connections: number, seconds: number): Promise<{ bytes: number; cpuSeconds: number }> {
  const script = fileURLToPath(new URL('./support/undici-loop.js', import.meta.url));
  const { code, stdout, cpuSeconds } = await measured([script, url, String(connections), String(seconds)]);
  if (code !== 0) throw new Error(`undici-loop exited with ${code}`);
  return { bytes: Number(/bytes (\d+)/.exec(stdout)?.[1] ?? NaN), cpuSeconds };
}

async function main(): Promise<void> {
  console.log(`load benchmark: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} CPUs, Node ${process.version}`);
  const dir = mkdtempSync(join(tmpdir(), 'mediacast-load-bench-'));
  try {
    // (a) Scale.
    const last = 2 + PLAYERS - 1;
    const sources = `127.0.0.2-127.0.${last >> 8}.${last & 255}`;
    const shaped = await startCli(['--path', DEMO_MEDIA, '--workers', '1', '--shape', '10GB,150kB,10GB,16kB', '--max-connections', String(PLAYERS * 4 + 100)]);
    let scale: SimulatorRun;
    try {
      scale = await simulate([`${shaped.url}master.m3u8`, '--players', String(PLAYERS), '--ramp', '2s', '--duration', `${DURATION}s`, '--source', sources], dir);
    } finally {
      await shaped.stop();
    }
    const perPlayer = scale.cpuSeconds / DURATION / PLAYERS;
    console.log(
      `(a) ${PLAYERS} players, 150 kB/s each, ${DURATION} s on 1 simulator thread: ${(scale.cpuSeconds / DURATION * 100).toFixed(1)} % of a core ` +
        `(${(perPlayer * 1e6).toFixed(0)} us CPU per player-second) -> about ${fmt.int(1 / perPlayer)} players per simulator core (extrapolated); ` +
        `${scale.summary.sessions} sessions, ${scale.summary.stalls} stalls, ${scale.summary.failedPlayers} failed players, ` +
        `average bitrate ${(scale.summary.averageBitrate / 1e6).toFixed(3)} Mbit/s, startup p95 ${(scale.summary.startup.p95 / 1000).toFixed(2)} s`,
    );
    // (b) Overhead against autocannon, same server, same segment, as many connections.
    const library = join(dir, 'long');
    mkdirSync(library);
    copyFileSync(join(DEMO_MEDIA, 'v2', 'seg_000.ts'), join(library, 'seg_000.ts'));
    writeFileSync(join(library, 'long.m3u8'), `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n${'#EXTINF:2.0,\nseg_000.ts\n'.repeat(3000)}#EXT-X-ENDLIST\n`);
    const open = await startCli(['--path', library, '--workers', '1']);
    try {
      const seconds = 10;
      const sim = await simulate([`${open.url}long.m3u8`, '--players', String(CONNECTIONS), '--duration', `${seconds}s`, '--buffer', 'startup=1,target=100000,resume=1'], dir);
      const simRate = sim.summary.bytes / sim.cpuSeconds;
      const before = process.cpuUsage();
      const result = await runAutocannon({ url: `${open.url}seg_000.ts`, connections: CONNECTIONS, duration: seconds, workers: 1 });
      const used = process.cpuUsage(before);
      const acRate = result.throughput.total / ((used.user + used.system) / 1e6);
      const floor = await undiciFloor(`${open.url}seg_000.ts`, CONNECTIONS, seconds);
      const floorRate = floor.bytes / floor.cpuSeconds;
      console.log(
        `(b) bytes per client CPU-second, ${CONNECTIONS} connections, ${seconds} s: simulator ${fmt.mb(simRate)} MB/CPU-s (${fmt.mb(sim.summary.bytes)} MB in ${sim.cpuSeconds.toFixed(2)} CPU-s), ` +
          `autocannon ${fmt.mb(acRate)} MB/CPU-s (${fmt.mb(result.throughput.total)} MB in ${((used.user + used.system) / 1e6).toFixed(2)} CPU-s): ${fmt.ratio(simRate / acRate)}; ` +
          `undici alone ${fmt.mb(floorRate)} MB/CPU-s (${fmt.mb(floor.bytes)} MB in ${floor.cpuSeconds.toFixed(2)} CPU-s): simulator ${fmt.ratio(simRate / floorRate)} of it`,
      );
    } finally {
      await open.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
