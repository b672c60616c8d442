/**
 * `npm test`: runs every compiled `*.test.js` under this directory with node:test. Node 20's
 * `--test DIR` would also run helper modules (anything under a "test" directory counts), and
 * its glob arguments are a Node 21 feature, so the files are listed here.
 *
 * Two lines of files run side by side, to keep the suite within minutes on two cores: the suites
 * that measure rates, times or CPU (and the browser ones) one after another in one, the
 * functional ones (options, files, protocol, unit tests) in the other; the player simulator's
 * suite, the most CPU-hungry, runs last and alone. The functional line's output is printed when
 * it ends, so the two never interleave. MEDIACAST_TEST_SERIAL=1 runs every file in one line.
 * Arguments filter the files by a part of their path.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path);
    return entry.name.endsWith('.test.js') ? [path] : [];
  });
}

/** Suites whose assertions measure time, rates or CPU: never beside another line. */
const TIMED = ['shaping', 'control', 'faults', 'player', 'proxy', 'bonjour', 'bench-command', 'streaming', 'resource-limits'].map((name) => `integration/${name}.test.js`);
const ALONE = ['integration/load.test.js'];

const root = fileURLToPath(new URL('.', import.meta.url));
const filter = process.argv.slice(2);
const files = testFiles(root)
  .filter((file) => filter.length === 0 || filter.some((part) => file.includes(part)))
  .sort();
const among = (names: readonly string[]) => (file: string) => names.some((name) => file.endsWith(name));

/** Runs `list` in one node:test process; its output streamed, or kept and printed at the end. */
function run(list: readonly string[], stream: boolean): Promise<number> {
  if (list.length === 0) return Promise.resolve(0);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--test', ...list], { stdio: ['ignore', stream ? 'inherit' : 'pipe', stream ? 'inherit' : 'pipe'] });
    const kept: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => kept.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => kept.push(chunk));
    child.on('close', (code) => {
      if (!stream) process.stdout.write(Buffer.concat(kept));
      resolve(code ?? 1);
    });
  });
}

async function main(): Promise<void> {
  if (process.env['MEDIACAST_TEST_SERIAL'] === '1') {
    process.exitCode = await run(files, true);
    return;
  }
  const alone = files.filter(among(ALONE));
  const timed = files.filter(among(TIMED));
  const functional = files.filter((file) => !among(ALONE)(file) && !among(TIMED)(file));
  const codes = await Promise.all([run(timed, true), run(functional, false)]);
  codes.push(await run(alone, true));
  process.exitCode = codes.some((code) => code !== 0) ? 1 : 0;
}

await main();
