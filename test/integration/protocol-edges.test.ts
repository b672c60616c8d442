/**
 * Edges of the protocol and of the lifecycle: empty bodies on shaped servers, unix-socket peers
 * with per-IP shaping, the drain telling keep-alive clients to go, signals during the drain, and
 * who the access log names behind a trusted proxy.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { download } from '../helpers/download.js';
import { get } from '../helpers/http.js';
import { waitFor } from '../helpers/proc.js';
import { startCli } from '../helpers/server-process.js';

let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'mediacast-edges-'));
  writeFileSync(join(dir, 'empty.txt'), '');
  writeFileSync(join(dir, 'small.txt'), 'small');
  writeFileSync(join(dir, '300k.bin'), Buffer.alloc(300_000, 5));
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** A keep-alive connection speaking raw HTTP/1.1: send a request, read one whole response. */
class RawConnection {
  readonly socket: Socket;
  #buffer = Buffer.alloc(0);

  constructor(url: string, localAddress?: string) {
    const { port, hostname } = new URL(url);
    this.socket = connect({ port: Number(port), host: hostname, localAddress });
    this.socket.on('data', (data: Buffer) => (this.#buffer = Buffer.concat([this.#buffer, data])));
    // A response that never completes fails the test instead of hanging it.
    this.socket.setTimeout(10_000, () => this.socket.destroy(new Error('no complete response within 10 s')));
  }

  async request(path: string): Promise<{ head: string; body: Buffer }> {
    this.socket.write(`GET ${path} HTTP/1.1\r\nHost: test\r\n\r\n`);
    return this.response();
  }

  /** The next whole response on the connection. */
  async response(): Promise<{ head: string; body: Buffer }> {
    for (;;) {
      const end = this.#buffer.indexOf('\r\n\r\n');
      if (end >= 0) {
        const head = this.#buffer.subarray(0, end).toString('latin1');
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (this.#buffer.length >= end + 4 + length) {
          const body = this.#buffer.subarray(end + 4, end + 4 + length);
          this.#buffer = this.#buffer.subarray(end + 4 + length);
          return { head, body };
        }
      }
      await once(this.socket, 'data');
    }
  }
}

describe('protocol and lifecycle edges', () => {
  test('an empty file on a shaped server ends at once, and the connection stays usable', async () => {
    const server = await startCli(['--path', dir, '--workers', '1', '--shape', '10kB,1kB']);
    try {
      const connection = new RawConnection(server.url);
      const started = performance.now();
      const empty = await connection.request('/empty.txt');
      assert.match(empty.head, /^HTTP\/1.1 200 OK\r\n/);
      assert.match(empty.head, /content-length: 0/i);
      assert.equal((await connection.request('/small.txt')).body.toString(), 'small');
      assert.ok(performance.now() - started < 2000, 'an empty body waited for tokens');
      connection.socket.destroy();
    } finally {
      // A stuck empty response would hold the shutdown for the whole grace period.
      const started = performance.now();
      assert.equal(await server.stop(), 0);
      assert.ok(performance.now() - started < 3000, `shutdown took ${(performance.now() - started).toFixed(0)} ms`);
    }
  });

  test('a unix-socket listener with per-IP shaping serves its peers (one local client)', async () => {
    const socketPath = join(dir, 'shaped.sock');
    const server = await startCli(['--path', dir, '--workers', '1', '-p', `unix:${socketPath}`, '--shape', '-,200kB'], { loopbackPort: false });
    try {
      const started = performance.now();
      const bodies = await Promise.all(
        [1, 2].map(
          () =>
            new Promise<number>((resolveBody, reject) => {
              const req = httpRequest({ socketPath, path: '/300k.bin' }, (res) => {
                let bytes = 0;
                res.on('data', (d: Buffer) => (bytes += d.length));
                res.on('end', () => resolveBody(res.statusCode === 200 ? bytes : -res.statusCode!));
              });
              req.on('error', reject);
              req.end();
            }),
        ),
      );
      assert.deepEqual(bodies, [300_000, 300_000]);
      // 600 kB through one 200 kB/s bucket with a 200 kB burst: about 2 s.
      const seconds = (performance.now() - started) / 1000;
      assert.ok(seconds > 1.5 && seconds < 4, `took ${seconds.toFixed(1)} s`);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });

  test('while draining, responses say Connection: close, so keep-alive clients move on before the deadline', async () => {
    const server = await startCli(['--path', dir, '--workers', '1', '--shape', '-,100kB,0,0', '--shutdown-timeout', '20']);
    const idle = new RawConnection(server.url, '127.0.0.2');
    assert.doesNotMatch((await idle.request('/small.txt')).head, /connection: close/i);
    // A slow download keeps the drain going for about 3 s.
    const slow = download(new URL('/300k.bin', server.url).href, { localAddress: '127.0.0.3' });
    await new Promise((resolveTick) => setTimeout(resolveTick, 200));
    const exited = server.stop('SIGTERM');
    assert.ok(await waitFor(() => /SIGTERM: finishing/.test(server.stderr()), 5000));
    const during = await idle.request('/small.txt');
    assert.equal(during.body.toString(), 'small');
    assert.match(during.head, /connection: close/i);
    assert.equal((await slow).bytes, 300_000);
    assert.equal(await exited, 0);
    idle.socket.destroy();
  });

  test('SIGHUP during the drain reopens the log instead of killing the process', async () => {
    const log = join(dir, 'drain.log');
    const server = await startCli(['--path', dir, '--workers', '1', '--shape', '-,100kB,0,0', '-l', log]);
    const slow = download(new URL('/300k.bin', server.url).href, { localAddress: '127.0.0.4' });
    await new Promise((resolveTick) => setTimeout(resolveTick, 200));
    const exited = server.stop('SIGTERM');
    assert.ok(await waitFor(() => /SIGTERM: finishing/.test(server.stderr()), 5000));
    server.child.kill('SIGHUP');
    const result = await slow;
    assert.equal(result.bytes, 300_000, 'the download in flight was cut');
    assert.equal(await exited, 0);
    assert.match(readFileSync(log, 'utf8'), /"GET \/300k\.bin HTTP\/1\.1" 200 300000/);
  });

  test('the access log names the forwarded client only behind a trusted proxy', async () => {
    const log = join(dir, 'forwarded.log');
    const server = await startCli(['--path', dir, '--workers', '1', '--trust-proxy', '127.0.0.2', '-l', log]);
    try {
      await get(new URL('/small.txt', server.url).href, { localAddress: '127.0.0.2', headers: { 'x-forwarded-for': '203.0.113.9, 127.0.0.2' } });
      await get(new URL('/small.txt', server.url).href, { localAddress: '127.0.0.3', headers: { 'x-forwarded-for': '203.0.113.10' } });
      // A proxy that appends its own line after the one the client sent: the last line counts.
      const twoLines = new RawConnection(server.url, '127.0.0.2');
      twoLines.socket.write('GET /small.txt HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 6.6.6.6\r\nX-Forwarded-For: 203.0.113.11\r\n\r\n');
      assert.equal((await twoLines.response()).body.toString(), 'small');
      twoLines.socket.destroy();
    } finally {
      assert.equal(await server.stop(), 0);
    }
    const remotes = readFileSync(log, 'utf8').trim().split('\n').map((line) => line.split(' ')[0]);
    assert.deepEqual(remotes, ['203.0.113.9', '127.0.0.3', '203.0.113.11']);
  });
});
