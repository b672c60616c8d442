/**
 * Resource exhaustion: what a client can make the server hold (memory, descriptors, pool time)
 * stays bounded.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { rawRequest } from '../helpers/http.js';
import { HAS_PROC, rssBytes, waitFor } from '../helpers/proc.js';
import { startCli } from '../helpers/server-process.js';

let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'mediacast-limits-'));
  mkdirSync(join(dir, 'root'));
  writeFileSync(join(dir, 'root', 'seg.ts'), Buffer.alloc(200_000, 3));
});

after(() => rmSync(dir, { recursive: true, force: true }));

describe('memory', () => {
  test('300 spellings of one 200 KB file keep one copy of it in memory', { skip: !HAS_PROC && 'needs /proc' }, async () => {
    const server = await startCli(['--path', join(dir, 'root'), '--workers', '1']);
    try {
      const first = await rawRequest(server.url, '/seg.ts');
      assert.equal(first.body.length, 200_000);
      const before = rssBytes(server.pid);
      for (let slashes = 2; slashes <= 301; slashes++) {
        const res = await rawRequest(server.url, `${'/'.repeat(slashes)}seg.ts`);
        assert.equal(res.body.length, 200_000);
      }
      const grown = rssBytes(server.pid) - before;
      // Keyed by URL, the 300 copies took 60 MB.
      assert.ok(grown < 20 * 1024 * 1024, `RSS grew by ${(grown / 1024 / 1024).toFixed(1)} MiB`);
    } finally {
      await server.stop();
    }
  });
});

/** Opens `count` connections that send nothing, and counts those the server closes. */
function openIdle(url: string, count: number): { closed: () => number; destroy: () => void } {
  const { port } = new URL(url);
  let closed = 0;
  const sockets: Socket[] = [];
  for (let i = 0; i < count; i++) {
    const socket = connect(Number(port), '127.0.0.1');
    socket.on('error', () => {});
    socket.on('close', () => closed++);
    sockets.push(socket);
  }
  return { closed: () => closed, destroy: () => sockets.forEach((socket) => socket.destroy()) };
}

/** CPU seconds (user + system) the process has used. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

describe('directory listings', () => {
  test('six listings of a 20,000-entry directory share one build and do not hold up an unrelated file', async () => {
    const big = join(dir, 'root', 'many');
    mkdirSync(big);
    for (let i = 0; i < 20_000; i++) writeFileSync(join(big, `seg_${i}.ts`), '');
    const server = await startCli(['--path', join(dir, 'root'), '--workers', '1']);
    try {
      const listings = Array.from({ length: 6 }, () => rawRequest(server.url, '/many/'));
      const started = performance.now();
      const file = await rawRequest(server.url, '/seg.ts');
      const fileMs = performance.now() - started;
      const pages = await Promise.all(listings);
      assert.equal(file.body.length, 200_000);
      assert.deepEqual(pages.map((p) => p.status), Array(6).fill(200));
      assert.equal(new Set(pages.map((p) => p.body.toString())).size, 1);
      assert.match(pages[0]!.body.toString(), /seg_19999\.ts/);
      // Built per request with a realpath and a stat per entry on the shared pool, this took 4 s.
      assert.ok(fileMs < 1500, `the 200 KB file took ${fileMs.toFixed(0)} ms behind the listings`);
      // A changed directory is listed anew within about a second.
      writeFileSync(join(big, 'added-later.ts'), '');
      assert.ok(await waitFor(async () => (await rawRequest(server.url, '/many/')).body.includes('added-later.ts'), 5000));
    } finally {
      assert.equal(await server.stop(), 0);
      rmSync(big, { recursive: true, force: true });
    }
  });

  test('--no-listing answers 403 for a directory without an index, still redirects to the slash form', async () => {
    mkdirSync(join(dir, 'root', 'plain'), { recursive: true });
    const server = await startCli(['--path', join(dir, 'root'), '--workers', '1', '--no-listing']);
    try {
      assert.equal((await rawRequest(server.url, '/plain')).status, 301);
      const page = await rawRequest(server.url, '/plain/');
      assert.equal(page.status, 403);
      assert.match(page.body.toString(), /listings are turned off/);
      assert.equal((await rawRequest(server.url, '/')).status, 403);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });
});

describe('descriptors', () => {
  test('out of descriptors: connections past the cap are closed at once, the server neither spins nor stops serving', { skip: !HAS_PROC && 'needs /proc' }, async () => {
    const server = await startCli(['--path', join(dir, 'root'), '--workers', '1'], { descriptorLimit: 150 });
    const flood = openIdle(server.url, 200);
    try {
      assert.match(server.stderr(), /warning: the descriptor limit is 150 \(ulimit -n\): at most 43 connections at once/);
      assert.ok(await waitFor(() => flood.closed() >= 200 - 43, 5000), `${flood.closed()} of the 157 excess connections were closed`);
      const before = cpuSeconds(server.pid);
      await new Promise((resolveTick) => setTimeout(resolveTick, 2000));
      const used = cpuSeconds(server.pid) - before;
      // An accept loop spinning on EMFILE burns a whole core.
      assert.ok(used < 0.5, `the server used ${used.toFixed(2)} CPU-s in 2 s holding 43 idle connections`);
      flood.destroy();
      // Once the connections are gone, it serves again.
      assert.ok(await retryUntilServed(new URL('/seg.ts', server.url).href), 'no response after the flood');
    } finally {
      flood.destroy();
      assert.equal(await server.stop(), 0);
    }
  });

  test('--max-connections caps connections across workers', async () => {
    const server = await startCli(['--path', join(dir, 'root'), '--workers', '2', '--max-connections', '5']);
    const flood = openIdle(server.url, 12);
    try {
      assert.ok(await waitFor(() => flood.closed() >= 7, 5000), `${flood.closed()} closed`);
      await new Promise((resolveTick) => setTimeout(resolveTick, 300));
      assert.equal(flood.closed(), 7, 'exactly the connections past 5 were closed');
    } finally {
      flood.destroy();
      assert.equal(await server.stop(), 0);
    }
  });
});

/** GETs `url` until a 200 arrives (true) or 5 s pass. */
function retryUntilServed(url: string): Promise<boolean> {
  return waitFor(
    () =>
      rawRequest(url, new URL(url).pathname).then(
        (res) => res.status === 200,
        () => false,
      ),
    5000,
  );
}
