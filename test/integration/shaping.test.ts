/**
 * Shaping over real sockets with distinct loopback client addresses. Bounds are generous (these
 * run on busy 2-core machines); the precise figures are in `npm run bench:shaping`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { jainIndex } from '../../src/stats/fairness.js';
import { download } from '../helpers/download.js';
import { startCli, type ServerProcess } from '../helpers/server-process.js';

let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'mediacast-shape-'));
  writeFileSync(join(dir, 'big.bin'), '');
  truncateSync(join(dir, 'big.bin'), 1024 ** 3);
  writeFileSync(join(dir, '100k.bin'), Buffer.alloc(100_000, 7));
  writeFileSync(join(dir, '21k.bin'), Buffer.alloc(21_000, 7));
});

after(() => rmSync(dir, { recursive: true, force: true }));

async function withServer(args: string[], body: (url: string) => Promise<void>): Promise<void> {
  const server: ServerProcess = await startCli(['--path', dir, '--workers', '2', ...args]);
  try {
    await body(new URL('/big.bin', server.url).href);
  } finally {
    assert.equal(await server.stop(), 0);
  }
}

/** Relative error of `actual` against `expected`. */
const error = (actual: number, expected: number): number => Math.abs(actual - expected) / expected;

// Independent servers: run side by side (the 1 kB/s case alone takes about 20 s).
describe('shaping', { concurrency: true }, () => {
  test('a 1 kB/s limit on a 21 kB file: completes, never idled out (uWS cuts 10 s of silence), at about 1 kB/s', async () => {
    await withServer(['--shape', '1kB'], async (url) => {
      const result = await download(url.replace('big.bin', '21k.bin'));
      assert.equal(result.complete, true, 'the download was cut (uWS idle timeout?)');
      assert.equal(result.bytes, 21_000);
      // 1 kB of burst, then 20 kB at 1 kB/s: about 20 s, twice uWS's idle timeout.
      const seconds = result.elapsedMs / 1000;
      assert.ok(seconds > 18 && seconds < 23, `took ${seconds.toFixed(1)} s`);
    });
  });

  test('startup prints the effective limits in bytes/s and bits/s', async () => {
    const server = await startCli(['--path', dir, '--workers', '1', '--shape', '40Mbit,4Mbit,-,1MiB', '--shape-ipv6-prefix', '64']);
    try {
      assert.match(
        server.stdout(),
        /server limit: 5,000,000 B\/s = 40\.000 Mbit\/s, burst 5,000,000 B; client limit: 500,000 B\/s = 4\.000 Mbit\/s, burst 1,048,576 B \(per IP \(IPv6 per \/64\)\)/,
      );
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });

  test('one client at 200 kB/s for 5 s gets burst + rate x time within 5%', async () => {
    await withServer(['--shape', '200kB'], async (url) => {
      const result = await download(url, { localAddress: '127.0.0.2', stopAfterMs: 5000 });
      const expected = 200_000 + (200_000 * result.elapsedMs) / 1000;
      assert.ok(error(result.bytes, expected) < 0.05, `got ${result.bytes} B, expected ${expected.toFixed(0)} B`);
    });
  });

  test('10 clients share a 1 MB/s server limit within 5%, fairly (Jain >= 0.9)', async () => {
    await withServer(['--shape', '1MB'], async (url) => {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => download(url, { localAddress: `127.0.0.${i + 2}`, stopAfterMs: 5000, markAfterMs: 1000 })),
      );
      const total = results.reduce((sum, r) => sum + r.bytes, 0);
      const elapsed = Math.max(...results.map((r) => r.elapsedMs)) / 1000;
      const expected = 1_000_000 + 1_000_000 * elapsed;
      assert.ok(error(total, expected) < 0.05, `aggregate ${total} B, expected ${expected.toFixed(0)} B`);
      // The server's burst goes to whoever asks first; the sharing is judged after it (from 1 s on).
      const shares = results.map((r) => r.bytes - r.bytesAtMark);
      const jain = jainIndex(shares);
      assert.ok(jain >= 0.9, `Jain's index ${jain.toFixed(3)}: ${shares.join(' ')}`);
    });
  });

  test('two connections from one IP share its bucket', async () => {
    await withServer(['--shape', '-,200kB'], async (url) => {
      const [a, b] = await Promise.all([0, 1].map(() => download(url, { localAddress: '127.0.0.2', stopAfterMs: 4000 })));
      const total = a!.bytes + b!.bytes;
      const expected = 200_000 + 200_000 * 4;
      assert.ok(error(total, expected) < 0.1, `the IP got ${total} B, expected ${expected} B`);
      assert.ok(jainIndex([a!.bytes, b!.bytes]) > 0.9, `split ${a!.bytes} / ${b!.bytes}`);
    });
  });

  test('--shape-by connection gives each connection its own bucket', async () => {
    await withServer(['--shape', '-,200kB', '--shape-by', 'connection'], async (url) => {
      const results = await Promise.all([0, 1].map(() => download(url, { localAddress: '127.0.0.2', stopAfterMs: 4000 })));
      for (const r of results) {
        const expected = 200_000 + (200_000 * r.elapsedMs) / 1000;
        assert.ok(error(r.bytes, expected) < 0.1, `a connection got ${r.bytes} B, expected ${expected.toFixed(0)} B`);
      }
    });
  });

  test('--client-id-header and X-Forwarded-For pick buckets only from --trust-proxy peers', async () => {
    await withServer(['--shape', '-,200kB', '--client-id-header', 'X-Viewer', '--trust-proxy', '127.0.0.2'], async (url) => {
      const run = (localAddress: string, headers: Record<string, string>) => download(url, { localAddress, stopAfterMs: 4000, headers });
      const [one, two, forOne, forTwo, three, four] = await Promise.all([
        run('127.0.0.2', { 'x-viewer': 'one' }),
        run('127.0.0.2', { 'x-viewer': 'two' }),
        run('127.0.0.2', { 'x-forwarded-for': '198.51.100.1' }),
        run('127.0.0.2', { 'x-forwarded-for': '198.51.100.2' }),
        // Not trusted: the same tricks leave both in the bucket of 127.0.0.3.
        run('127.0.0.3', { 'x-viewer': 'three', 'x-forwarded-for': '198.51.100.3' }),
        run('127.0.0.3', { 'x-viewer': 'four', 'x-forwarded-for': '198.51.100.4' }),
      ]);
      const allowed = (ms: number) => 200_000 + (200_000 * ms) / 1000;
      for (const [name, r] of Object.entries({ one, two, forOne, forTwo })) {
        assert.ok(error(r!.bytes, allowed(r!.elapsedMs)) < 0.1, `${name} got ${r!.bytes} B, expected ${allowed(r!.elapsedMs).toFixed(0)} B`);
      }
      const shared = three!.bytes + four!.bytes;
      const expected = allowed(Math.max(three!.elapsedMs, four!.elapsedMs));
      assert.ok(error(shared, expected) < 0.1, `the untrusted pair got ${shared} B together, expected ${expected.toFixed(0)} B`);
    });
  });

  test('small responses are shaped too: after the burst, each waits its turn', async () => {
    await withServer(['--shape', '-,10kB,0,0'], async (url) => {
      const small = url.replace('big.bin', '100k.bin');
      const started = performance.now();
      const result = await download(small, { localAddress: '127.0.0.3' });
      const seconds = (performance.now() - started) / 1000;
      assert.equal(result.bytes, 100_000);
      assert.ok(seconds > 9 && seconds < 12, `100 kB at 10 kB/s with no burst took ${seconds.toFixed(1)} s`);
    });
  });
});
