/**
 * `mediacast bench [URL]`: the bundled autocannon scenarios against a server serving the demo
 * library's layout, or against the bundled demo started in this process (with a 64 MiB file for
 * the `large` scenario); `--compare URL2` measures a second server interleaved and prints ratios.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'clipanion';
import { resolveArgv } from '../config/argv-plan.js';
import { startServer } from '../coordinator/server.js';
import { measureAll, type Measurement, type Target } from '../benchmark/autocannon-rounds.js';
import { formatTable } from '../benchmark/format-table.js';
import { benchScenario, LARGE_FILE, LARGE_FILE_BYTES, parseScenarioList } from '../benchmark/bench-scenarios.js';
import { statPath } from './serve-command.js';
import { wholeNumber } from '../config/command-values.js';

const DEMO_MEDIA = fileURLToPath(new URL('../../../src/demo-media', import.meta.url));

export class BenchCommand extends Command {
  static override paths = [['bench']];

  static override usage = Command.Usage({
    description: 'The bundled autocannon scenarios (small, playlist, segment, range, large) against a server, or the bundled demo.',
    examples: [
      ['The bundled demo, in this process', 'mediacast bench'],
      ['This server next to nginx', 'mediacast bench http://127.0.0.1:8080/ --compare http://127.0.0.1:8081/'],
    ],
  });

  url = Option.String({ required: false });
  compare = Option.String('--compare', { description: 'A second server measured interleaved with the first; ratios are printed. Example: `--compare http://127.0.0.1:8081/`' });
  scenarios = Option.String('--scenarios', 'small,playlist,segment,range,large', { description: 'Which scenarios. Example: `--scenarios segment,range`' });
  duration = Option.String('--duration', '5', { description: 'Seconds per measurement. Example: `--duration 10`' });
  rounds = Option.String('--rounds', '3', { description: 'Interleaved rounds (medians are printed). Example: `--rounds 5`' });
  connections = Option.String('--connections', '50', { description: 'Connections (large: 1). Example: `--connections 100`' });
  workers = Option.String('--workers', '2', { description: 'autocannon worker threads. Example: `--workers 4`' });
  json = Option.String('--json', { description: 'Write the medians. Example: `--json bench.json`' });

  async execute(): Promise<number> {
    const { stdout, stderr } = this.context;
    let options: { duration: number; rounds: number; clientWorkers: number; connections: number };
    let names;
    try {
      options = {
        duration: wholeNumber(this.duration, '--duration', 1, 3600),
        rounds: wholeNumber(this.rounds, '--rounds', 1, 100),
        clientWorkers: wholeNumber(this.workers, '--workers', 1, 64),
        connections: wholeNumber(this.connections, '--connections', 1, 100_000),
      };
      names = parseScenarioList(this.scenarios);
      for (const [option, url] of [['URL', this.url], ['--compare', this.compare]] as const) {
        if (url !== undefined && !/^https?:\/\//.test(url)) throw new Error(`${option}: "${url}" is not an http(s) URL`);
      }
    } catch (error) {
      stderr.write(`mediacast bench: ${(error as Error).message}\n`);
      return 2;
    }
    const scenarios = names.map((name) => benchScenario(name, options.connections));
    const demo = this.url === undefined ? await startDemo() : null;
    try {
      const targets: Target[] = [{ name: this.url ?? 'bundled demo', url: withSlash(this.url ?? demo!.url) }];
      if (this.compare !== undefined) targets.push({ name: this.compare, url: withSlash(this.compare) });
      stdout.write(`mediacast bench: ${names.join(', ')}; ${options.rounds} rounds of ${options.duration} s, ${options.connections} connections, ${options.clientWorkers} autocannon threads\n`);
      const results = await measureAll(targets, scenarios, options, (line) => stdout.write(`${line}\n`));
      stdout.write(`\n${formatResults(targets, names, results)}\n`);
      if (this.json !== undefined) {
        const document = { targets: targets.map((t) => t.name), results: Object.fromEntries(results) };
        writeFileSync(this.json, `${JSON.stringify(document, null, 2)}\n`);
      }
      const errors = [...results.values()].reduce((sum, m) => sum + m.errors, 0);
      if (errors > 0) stderr.write(`mediacast bench: ${errors} requests failed or answered an error; see the errors column\n`);
      return 0;
    } finally {
      await demo?.stop();
    }
  }
}

const withSlash = (url: string): string => (url.endsWith('/') ? url : `${url}/`);

/**
 * The demo library copied with a large file beside it, served in this process on a free loopback
 * port. The copy is removed however the command ends (an error, Ctrl-C).
 */
async function startDemo(): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'mediacast-bench-demo-'));
  const remove = (): void => rmSync(dir, { recursive: true, force: true });
  const onSignal = (signal: NodeJS.Signals): void => {
    remove();
    process.kill(process.pid, signal);
  };
  process.once('exit', remove);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const forget = (): void => {
    process.off('exit', remove);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    remove();
  };
  try {
    cpSync(DEMO_MEDIA, dir, { recursive: true });
    const fd = openSync(join(dir, LARGE_FILE), 'w');
    try {
      const block = randomBytes(1024 * 1024);
      for (let written = 0; written < LARGE_FILE_BYTES; written += block.length) writeSync(fd, block);
    } finally {
      closeSync(fd);
    }
    const plan = resolveArgv(
      [
        { name: '--path', value: dir },
        { name: '-p', value: 'tcp:0:interface=127.0.0.1' },
        { name: '--workers', value: '1' },
      ],
      { cwd: dir, defaultWorkers: 1, statPath },
    );
    const server = await startServer(plan, { print: () => {}, log: (line) => process.stderr.write(`${line}\n`) });
    const port = server.servers[0]!.port!;
    return {
      url: `http://127.0.0.1:${port}/`,
      async stop() {
        try {
          await server.shutdown();
        } finally {
          forget();
        }
      },
    };
  } catch (error) {
    forget();
    throw error;
  }
}

function formatResults(targets: readonly Target[], names: readonly string[], results: ReadonlyMap<string, Measurement>): string {
  const header = ['scenario', 'server', 'req/s', 'MB/s', 'p50 ms', 'p99 ms', 'errors', ...(targets.length > 1 ? ['req/s ratio', 'MB/s ratio'] : [])];
  const rows = names.flatMap((name) =>
    targets.map((target) => {
      const m = results.get(`${name}|${target.name}`)!;
      const first = results.get(`${name}|${targets[0]!.name}`)!;
      const ratio = (a: number, b: number): string => (b > 0 ? `${(a / b).toFixed(2)}x` : '-');
      return [
        name,
        target.name,
        Math.round(m.reqPerSec).toLocaleString('en-US'),
        (m.bytesPerSec / 1e6).toFixed(1),
        m.p50.toFixed(2),
        m.p99.toFixed(2),
        String(m.errors),
        ...(targets.length > 1 ? (target === targets[0] ? ['1.00x', '1.00x'] : [ratio(m.reqPerSec, first.reqPerSec), ratio(m.bytesPerSec, first.bytesPerSec)]) : []),
      ];
    }),
  );
  return formatTable(header, rows);
}
