/**
 * Large bodies: a 1 GiB sparse file to fast and slow readers with the server's memory bounded,
 * and an aborted download giving its file descriptor back at once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fdsOnPath, HAS_PROC, rssBytes, waitFor } from '../helpers/proc.js';
import { startCli, type ServerProcess } from '../helpers/server-process.js';

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;
let dir: string;
let bigPath: string;
let server: ServerProcess;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mediacast-stream-'));
  bigPath = join(dir, 'big.bin');
  writeFileSync(bigPath, '');
  truncateSync(bigPath, GIB);
  server = await startCli(['--path', dir, '--workers', '1']);
});

after(async () => {
  assert.equal(await server.stop(), 0);
  rmSync(dir, { recursive: true, force: true });
});

function open(path: string): Promise<{ res: IncomingMessage; destroy: () => void }> {
  return new Promise((resolveOpen, reject) => {
    const req = request(new URL(path, server.url), (res) => resolveOpen({ res, destroy: () => req.destroy() }));
    req.on('error', reject);
    req.end();
  });
}

/** Samples the server's RSS every 50 ms while `work` runs; returns the peak. */
async function peakRssDuring(work: () => Promise<void>): Promise<number> {
  let peak = rssBytes(server.pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, rssBytes(server.pid));
  }, 50);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, rssBytes(server.pid));
}

test('1 GiB streams whole to a fast reader with bounded server memory', { skip: !HAS_PROC && 'needs /proc' }, async () => {
  const before = rssBytes(server.pid);
  let received = 0;
  const peak = await peakRssDuring(async () => {
    const { res } = await open('/big.bin');
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-length'], String(GIB));
    for await (const chunk of res) received += (chunk as Buffer).length;
  });
  assert.equal(received, GIB);
  assert.ok(peak - before < 96 * MIB, `server RSS grew by ${((peak - before) / MIB).toFixed(1)} MiB`);
});

test('a slow reader pins little server memory', { skip: !HAS_PROC && 'needs /proc' }, async () => {
  const before = rssBytes(server.pid);
  let received = 0;
  const peak = await peakRssDuring(async () => {
    const { res, destroy } = await open('/big.bin');
    res.pause();
    // About 8 MB/s for 2 s: the kernel buffers fill and the server must wait for the reader.
    const deadline = Date.now() + 2000;
    while (Date.now() < deadline) {
      await new Promise((resolveTick) => setTimeout(resolveTick, 25));
      let chunk: Buffer | null;
      let budget = 200 * 1024;
      while (budget > 0 && (chunk = res.read() as Buffer | null) !== null) {
        received += chunk.length;
        budget -= chunk.length;
      }
    }
    destroy();
  });
  assert.ok(received > MIB, `reader got ${received} bytes`);
  assert.ok(received < GIB / 4, 'the reader was slow');
  assert.ok(peak - before < 64 * MIB, `server RSS grew by ${((peak - before) / MIB).toFixed(1)} MiB`);
});

test('an aborted download releases its file descriptor at once', { skip: !HAS_PROC && 'needs /proc' }, async () => {
  // The previous test's download may still be closing.
  assert.ok(await waitFor(() => fdsOnPath(server.pid, bigPath) === 0, 2000), 'a descriptor was left open before the test');
  const { res, destroy } = await open('/big.bin');
  await new Promise((resolveData) => res.once('data', resolveData));
  assert.ok(await waitFor(() => fdsOnPath(server.pid, bigPath) === 1, 2000), 'the server holds the file open while sending');
  destroy();
  assert.ok(await waitFor(() => fdsOnPath(server.pid, bigPath) === 0, 2000), 'descriptor still open after the abort');
});
