/**
 * Files swapped under a running server, between the check and the open: the descriptor itself is
 * checked, so a symlink or a FIFO renamed over a served file never leaks or hangs anything.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { get } from '../helpers/http.js';
import { HAS_PROC } from '../helpers/proc.js';
import { startCli, type ServerProcess } from '../helpers/server-process.js';

const SECRET = 'SECRET outside the root\n';
const BIG = 2 * 1024 * 1024;
let dir: string;
let root: string;
let server: ServerProcess;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mediacast-hostile-'));
  root = join(dir, 'root');
  mkdirSync(join(root, 'sub'), { recursive: true });
  writeFileSync(join(dir, 'secret.txt'), SECRET);
  mkdirSync(join(dir, 'elsewhere'));
  writeFileSync(join(dir, 'elsewhere', 'big.bin'), SECRET);
  for (const name of ['big.bin', 'sub/big.bin', 'small.txt', 'fifo0', 'fifo1', 'fifo2', 'fifo3', 'fifo4']) {
    writeFileSync(join(root, name), name.startsWith('small') ? 'small' : Buffer.alloc(BIG, 7));
  }
  writeFileSync(join(root, 'ok.bin'), Buffer.alloc(200_000, 1));
  server = await startCli(['--path', root, '--workers', '1']);
});

after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const url = (path: string): string => new URL(path, server.url).href;

/** Replaces `path` atomically with whatever `make` creates at a temporary name. */
function swap(path: string, make: (temp: string) => void): void {
  const temp = `${path}.swap`;
  make(temp);
  renameSync(temp, path);
}

describe('files swapped between check and open', () => {
  test('a symlink renamed over a large cached file (reopened without a new lookup) is not followed', async () => {
    assert.equal((await get(url('/big.bin'))).body.length, BIG);
    // Within the cache's freshness window the entry is reopened by path: the swap must be caught there.
    swap(join(root, 'big.bin'), (temp) => symlinkSync(join(dir, 'secret.txt'), temp));
    const after = await get(url('/big.bin'));
    assert.equal(after.status, 404);
    assert.ok(!after.body.toString().includes('SECRET'));
  });

  test('a directory on the path swapped for a symlink out of the root is caught on the descriptor', async () => {
    assert.equal((await get(url('/sub/big.bin'))).body.length, BIG);
    rmSync(join(root, 'sub'), { recursive: true });
    symlinkSync(join(dir, 'elsewhere'), join(root, 'sub'));
    const after = await get(url('/sub/big.bin'));
    assert.equal(after.status, 404);
    assert.ok(!after.body.toString().includes('SECRET'));
  });

  test('FIFOs swapped in for served files are refused at once and pin no I/O thread', async () => {
    const names = ['fifo0', 'fifo1', 'fifo2', 'fifo3', 'fifo4'];
    for (const name of names) assert.equal((await get(url(`/${name}`))).status, 200);
    for (const name of names) swap(join(root, name), (temp) => execFileSync('mkfifo', [temp]));
    const started = performance.now();
    const answers = await Promise.all([...names, ...names].map((name) => get(url(`/${name}`))));
    assert.deepEqual(
      answers.map((a) => a.status),
      Array(10).fill(404),
    );
    // With the pool's threads blocked on FIFO opens, this file could not be read at all.
    assert.equal((await get(url('/ok.bin'))).body.length, 200_000);
    assert.ok(performance.now() - started < 5000, `took ${(performance.now() - started).toFixed(0)} ms`);
  });

  test('libuv thread pool is sized for the workers (4 per worker)', { skip: !HAS_PROC && 'needs /proc' }, async () => {
    const threads = (pid: number): number => readdirSync(`/proc/${pid}/task`).length;
    const one = await startCli(['--path', root, '--workers', '1']);
    const three = await startCli(['--path', root, '--workers', '3']);
    try {
      // The pool starts its threads on first use; a file request uses it.
      await get(new URL('/ok.bin', one.url).href);
      await get(new URL('/ok.bin', three.url).href);
      // Two more uWS worker threads, and 8 more pool threads.
      assert.equal(threads(three.pid) - threads(one.pid), 2 + 8);
    } finally {
      await one.stop();
      await three.stop();
    }
  });
});
