/**
 * `mediacast bench`: the bundled scenarios against the in-process demo, and against two servers
 * with --compare; short runs (1 s per measurement) that check the table, the ratios and --json.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEMO_MEDIA, runCli, startCli } from '../helpers/server-process.js';

test('the bundled demo in process: every scenario answers without errors, ranges as 64 KiB', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mediacast-bench-cmd-'));
  try {
    const json = join(dir, 'bench.json');
    const copies = (): string[] => readdirSync(tmpdir()).filter((name) => name.startsWith('mediacast-bench-demo-'));
    const before = copies();
    const { code, stdout, stderr } = await runCli(['bench', '--duration', '1', '--rounds', '1', '--connections', '10', '--workers', '1', '--json', json], { timeoutMs: 60_000 });
    assert.equal(code, 0, stderr);
    for (const name of ['small', 'playlist', 'segment', 'range', 'large']) assert.match(stdout, new RegExp(`^\\s*${name}\\s+bundled demo\\s+[\\d,]+\\s+[\\d.]+`, 'm'));
    const results = (JSON.parse(readFileSync(json, 'utf8')) as { results: Record<string, { reqPerSec: number; bytesPerSec: number; errors: number }> }).results;
    for (const [key, m] of Object.entries(results)) {
      assert.equal(m.errors, 0, key);
      assert.ok(m.reqPerSec > 0, key);
    }
    assert.deepEqual(copies(), before, 'the demo copy is removed');
    const range = results['range|bundled demo']!;
    const perResponse = range.bytesPerSec / range.reqPerSec;
    assert.ok(perResponse > 60_000 && perResponse < 70_000, `${perResponse} bytes per range response`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--compare measures a second server and prints the ratios; bad options exit 2', async () => {
  const one = await startCli(['--path', DEMO_MEDIA, '--workers', '1']);
  const two = await startCli(['--path', DEMO_MEDIA, '--workers', '1']);
  try {
    const { code, stdout, stderr } = await runCli(['bench', one.url, '--compare', two.url, '--scenarios', 'playlist', '--duration', '1', '--rounds', '1', '--workers', '1'], { timeoutMs: 30_000 });
    assert.equal(code, 0, stderr);
    assert.match(stdout, /req\/s ratio\s+MB\/s ratio/);
    assert.match(stdout, new RegExp(`playlist\\s+${two.url.replace(/[/.]/g, '\\$&')}.*\\d\\.\\d\\dx\\s+\\d\\.\\d\\dx$`, 'm'));
  } finally {
    await one.stop();
    await two.stop();
  }
  for (const [args, message] of [
    [['bench', '--scenarios', 'tiny'], /unknown scenario "tiny"/],
    [['bench', 'ftp://x/'], /URL: "ftp:\/\/x\/" is not an http\(s\) URL/],
    [['bench', '--duration', '0'], /--duration: "0" is not a whole number/],
  ] as const) {
    const { code, stderr } = await runCli([...args], { timeoutMs: 10_000 });
    assert.equal(code, 2, stderr);
    assert.match(stderr, message);
  }
});
