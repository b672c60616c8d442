/**
 * The server never crashes on a request and never leaks a descriptor: malformed and hostile
 * requests, bodies it does not want, pipelining, and many downloads cut short, shaped or not.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { get } from '../helpers/http.js';
import { HAS_PROC, waitFor } from '../helpers/proc.js';
import { startCli, type ServerProcess } from '../helpers/server-process.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'mediacast-robust-'));
  writeFileSync(join(dir, 'small.txt'), 'small');
  writeFileSync(join(dir, 'medium.bin'), Buffer.alloc(300_000, 2));
  writeFileSync(join(dir, 'big.bin'), '');
  truncateSync(join(dir, 'big.bin'), 256 * 1024 ** 2);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Writes raw bytes and returns whatever comes back before the server closes or 2 s pass. */
function rawExchange(url: string, bytes: Buffer | string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolveReply) => {
    const socket = connect(Number(port), hostname, () => socket.write(bytes));
    let reply = '';
    socket.on('data', (d: Buffer) => (reply += d.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => resolveReply(reply));
    socket.setTimeout(2000, () => socket.destroy());
  });
}

const openDescriptors = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

async function withServer(args: string[], body: (server: ServerProcess) => Promise<void>, workers = 2): Promise<void> {
  const server = await startCli(['--path', dir, '--workers', String(workers), ...args]);
  try {
    await body(server);
  } finally {
    assert.equal(await server.stop(), 0, server.stderr());
  }
}

test('hostile and malformed requests get refused, and the server keeps serving', async () => {
  await withServer([], async (server) => {
    const garbage = [
      'NOT HTTP AT ALL\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      `GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      `GET / HTTP/1.1\r\n${Array.from({ length: 300 }, (_, i) => `X-H${i}: ${'v'.repeat(100)}`).join('\r\n')}\r\n\r\n`,
      'GET /small.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=99999999999999999999999-\r\n\r\n',
      'GET /small.txt HTTP/1.1\r\nHost: x\r\nIf-None-Match: ' + '"x",'.repeat(5000) + '\r\n\r\n',
      'GET /%%%%%/.. HTTP/1.1\r\nHost: x\r\n\r\n',
      Buffer.from([0x47, 0x45, 0x54, 0x20, 0x2f, 0xff, 0xfe, 0x00, 0x20, 0x48, 0x54, 0x54, 0x50, 0x0d, 0x0a, 0x0d, 0x0a]),
      'POST /small.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n' + 'x'.repeat(100_000),
    ];
    for (const bytes of garbage) await rawExchange(server.url, bytes);
    assert.equal((await get(new URL('/small.txt', server.url).href)).body.toString(), 'small', 'still serving');
    assert.doesNotMatch(server.stderr(), /worker \d+ died/);
  });
});

test('pipelined requests are answered in order', async () => {
  // One worker, so that the warm-up request fills the cache the pipelined ones are served from:
  // uWS closes the connection when a pipelined request arrives while an earlier response still
  // waits on the disk.
  await withServer(
    [],
    async (server) => {
      await get(new URL('/small.txt', server.url).href);
      const pipelined = await rawExchange(
        server.url,
        'GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\nHEAD /small.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /missing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      );
      assert.deepEqual([...pipelined.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1]), ['200', '200', '404']);
    },
    1,
  );
});

async function abortMany(url: string, count: number): Promise<void> {
  await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<void>((resolveAbort) => {
          const req = request(url, { agent: false }, (res) => {
            res.once('data', () => req.destroy());
            res.once('close', () => resolveAbort());
          });
          req.on('error', () => resolveAbort());
          req.end();
        }),
    ),
  );
}

for (const [name, args] of [
  ['unshaped', []],
  ['shaped', ['--shape', '-,200kB']],
] as const) {
  test(`${name}: 150 downloads cut short leave no descriptor behind`, { skip: !HAS_PROC && 'needs /proc' }, async () => {
    await withServer([...args], async (server) => {
      const base = new URL('/', server.url).href;
      await get(`${base}small.txt`); // warm up: listeners, caches, thread pool
      const before = openDescriptors(server.pid);
      for (const path of ['big.bin', 'medium.bin', 'big.bin']) await abortMany(`${base}${path}`, 50);
      const settled = await waitFor(() => openDescriptors(server.pid) <= before, 5000);
      assert.ok(settled, `descriptors: ${before} before, ${openDescriptors(server.pid)} after`);
      assert.equal((await get(`${base}small.txt`)).status, 200);
    });
  });
}
