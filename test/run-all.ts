/**
 * `npm test`: runs every compiled `*.test.js` under this directory with node:test. Node 20's
 * `--test DIR` would also run helper modules (anything under a "test" directory counts), and
 * its glob arguments are a Node 21 feature, so the files are listed here.
 */
import { spawnSync } from 'node:child_process';
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

const root = fileURLToPath(new URL('.', import.meta.url));
const filter = process.argv.slice(2);
const files = testFiles(root)
  .filter((file) => filter.length === 0 || filter.some((part) => file.includes(part)))
  .sort();
const result = spawnSync(process.execPath, ['--test', ...files], { stdio: 'inherit' });
process.exitCode = result.status ?? 1;
