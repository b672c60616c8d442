/**
 * Supervision and shutdown: a crashed worker is replaced while the others serve; SIGTERM lets a
 * download in flight finish, refuses new connections and exits 0; the grace period is bounded.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { resolveArgv } from '../../src/config/argv-plan.js';
import { startServer } from '../../src/coordinator/server.js';
import { get } from '../helpers/http.js';
import { startCli } from '../helpers/server-process.js';

const MIB = 1024 ** 2;
const BIG = 32 * MIB;
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'mediacast-life-'));
  writeFileSync(join(dir, 'small.txt'), 'hello\n');
  writeFileSync(join(dir, 'big.bin'), '');
  truncateSync(join(dir, 'big.bin'), BIG);
});

after(() => rmSync(dir, { recursive: true, force: true }));

describe('worker supervision', () => {
  test('a crashed worker is restarted while the others keep serving', async () => {
    const plan = resolveArgv(
      [
        { name: '--path', value: dir },
        { name: '-p', value: 'tcp:0:interface=127.0.0.1' },
        { name: '--workers', value: '2' },
      ],
      { cwd: dir, defaultWorkers: 2, statPath: () => 'directory' },
    );
    const logs: string[] = [];
    const server = await startServer(plan, { print: () => {}, log: (line) => logs.push(line) });
    const url = `http://127.0.0.1:${server.servers[0]!.port}/small.txt`;
    try {
      const crashed = once(server.workers, 'crashed');
      const restarted = once(server.workers, 'ready');
      server.workers.injectCrash(0);
      const [slot] = (await crashed) as [number];
      assert.equal(slot, 0);
      // Worker 0 is down and not yet replaced: every request must still be answered.
      for (let i = 0; i < 20; i++) {
        const res = await get(url, { headers: { connection: 'close' } });
        assert.equal(res.status, 200);
      }
      await restarted;
      assert.deepEqual(
        server.workers.status().map((s) => [s.slot, s.ready, s.restarts]),
        [
          [0, true, 1],
          [1, true, 0],
        ],
      );
      for (let i = 0; i < 20; i++) assert.equal((await get(url, { headers: { connection: 'close' } })).status, 200);
      assert.ok(logs.some((line) => /worker 0 died \(injected crash/.test(line)), logs.join('\n'));
    } finally {
      await server.shutdown();
    }
  });
});

function download(url: string): Promise<IncomingMessage> {
  return new Promise((resolveResponse, reject) => {
    const req = request(url, resolveResponse);
    req.on('error', reject);
    req.end();
  });
}

/** Reads a response at roughly `bytesPerTick` every 10 ms; resolves with the byte count. */
async function readSlowly(res: IncomingMessage, bytesPerTick: number): Promise<number> {
  let received = 0;
  res.pause();
  const ended = new Promise<void>((resolveEnd) => res.once('end', resolveEnd));
  const closed = new Promise<void>((resolveClose) => res.once('close', resolveClose));
  let done = false;
  void Promise.race([ended, closed]).then(() => (done = true));
  while (!done) {
    let budget = bytesPerTick;
    let chunk: Buffer | null;
    while (budget > 0 && (chunk = res.read() as Buffer | null) !== null) {
      received += chunk.length;
      budget -= chunk.length;
    }
    if (res.readableEnded) break;
    await new Promise((resolveTick) => setTimeout(resolveTick, 10));
  }
  for (let chunk: Buffer | null; (chunk = res.read() as Buffer | null) !== null; ) received += chunk.length;
  return received;
}

/** Polls until a new request is refused (true) or 5 s pass (false). */
async function refusesConnections(url: string): Promise<boolean> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const refused = await get(url, { headers: { connection: 'close' } }).then(
      () => false,
      (error: NodeJS.ErrnoException) => error.code === 'ECONNREFUSED',
    );
    if (refused) return true;
    await new Promise((resolveTick) => setTimeout(resolveTick, 50));
  }
  return false;
}

describe('graceful shutdown', () => {
  test('SIGTERM lets the download in flight finish, refuses new connections, exits 0', async () => {
    const server = await startCli(['--path', dir, '--workers', '2']);
    const res = await download(new URL('/big.bin', server.url).href);
    assert.equal(res.statusCode, 200);
    // At most 512 KiB per 10 ms tick: the body stays in flight for a while, well inside the grace period.
    const reading = readSlowly(res, 512 * 1024);
    const exited = server.stop('SIGTERM');
    assert.ok(await refusesConnections(new URL('/small.txt', server.url).href), 'still accepting 5 s after SIGTERM');
    assert.equal(await reading, BIG, 'the download in flight completed');
    assert.equal(await exited, 0);
  });

  test('a SIGTERM sent the moment the ready line appears still shuts down in order', async () => {
    // A signal racing the ready line once hit Node's default action (killed by SIGTERM, no exit code).
    for (let i = 0; i < 5; i++) {
      const server = await startCli(['--path', dir, '--workers', '1']);
      assert.equal(await server.stop('SIGTERM'), 0, `run ${i}: ${server.stderr()}`);
      assert.match(server.stderr(), /SIGTERM: finishing in-flight responses/);
    }
  });

  test('responses still running after --shutdown-timeout are cut and the server exits 0', async () => {
    const server = await startCli(['--path', dir, '--workers', '1', '--shutdown-timeout', '1']);
    const res = await download(new URL('/big.bin', server.url).href);
    const reading = readSlowly(res, 10 * 1024);
    const started = Date.now();
    const code = await server.stop('SIGTERM');
    const elapsed = Date.now() - started;
    assert.equal(code, 0);
    assert.ok(elapsed < 6000, `shutdown took ${elapsed} ms`);
    assert.ok((await reading) < BIG, 'the slow download was cut');
    assert.match(server.stderr(), /1 response\(s\) cut/);
  });
});
