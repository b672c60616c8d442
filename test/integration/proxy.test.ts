/**
 * The reverse proxy against real origins on loopback: headers both ways, URL translation,
 * streaming with bounded memory both ways, ranges and 304s, shaping, failures (refused, silent,
 * dying mid-body, client abort), TLS upstreams, keep-alive reuse, the access log.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { download } from '../helpers/download.js';
import { get, rawRequest } from '../helpers/http.js';
import { readBody, startOrigin, type Origin } from '../helpers/origin.js';
import { HAS_PROC, rssBytes, waitFor } from '../helpers/proc.js';
import { DEMO_MEDIA, startCli, type ServerProcess } from '../helpers/server-process.js';

const MiB = 1024 * 1024;
const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function withProxy(args: readonly string[], run: (server: ServerProcess) => Promise<void>): Promise<void> {
  const server = await startCli(['--workers', '1', ...args]);
  try {
    await run(server);
  } finally {
    assert.equal(await server.stop(), 0, server.stderr());
  }
}

/** Bytes the origin has handed to its socket for the latest streamed body. */
let originSent = 0;

/** A body of `size` bytes written in 1 MiB pieces with backpressure. */
function streamBody(res: import('node:http').ServerResponse, size: number, piece: Buffer): void {
  let sent = 0;
  originSent = 0;
  const write = (): void => {
    while (sent < size) {
      const chunk = piece.subarray(0, Math.min(piece.length, size - sent));
      sent += chunk.length;
      originSent = sent;
      if (!res.write(chunk)) return void res.once('drain', write);
    }
    res.end();
  };
  write();
}

/** Streams a GET's body through sha256 without keeping it. */
function hashDownload(url: string): Promise<{ status: number; digest: string; bytes: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, (res) => {
      const hash = createHash('sha256');
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        hash.update(chunk);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, digest: hash.digest('hex'), bytes, headers: res.headers }));
      res.on('error', reject);
      res.on('aborted', () => reject(new Error('aborted')));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('reverse proxy', () => {
  const piece = randomBytes(MiB);
  let origin: Origin;
  before(async () => {
    origin = await startOrigin((req, res) => {
      const url = new URL(req.url!, 'http://origin');
      const name = url.pathname.replace(/^\/base/, '');
      switch (name) {
        case '/echo':
          res.setHeader('Content-Type', 'application/json');
          res.setHeader('Connection', 'keep-alive, x-hop');
          res.setHeader('X-Hop', 'must not pass');
          res.setHeader('Set-Cookie', ['a=1', 'b=2']);
          res.setHeader('Cache-Control', 'max-age=2');
          res.end(JSON.stringify({ url: req.url, method: req.method, headers: req.headers }));
          return;
        case '/redirect-absolute':
          res.writeHead(302, { Location: `http://127.0.0.1:${origin.port}/base/next?x=1` }).end();
          return;
        case '/redirect-path':
          res.writeHead(301, { Location: '/base/dir/', Refresh: '0; url=/base/dir/' }).end();
          return;
        case '/redirect-relative':
          res.writeHead(302, { Location: 'elsewhere.m3u8', 'Content-Location': 'http://cdn.example/base/x' }).end();
          return;
        case '/file': {
          // A file with a validator and ranges, as an origin does it.
          const body = piece.subarray(0, 1000);
          res.setHeader('ETag', '"v1"');
          res.setHeader('Accept-Ranges', 'bytes');
          if (req.headers['if-none-match'] === '"v1"') return void res.writeHead(304).end();
          const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
          if (range) {
            const [start, end] = [Number(range[1]), Number(range[2])];
            res.writeHead(206, { 'Content-Range': `bytes ${start}-${end}/1000`, 'Content-Length': end - start + 1 });
            return void res.end(req.method === 'HEAD' ? undefined : body.subarray(start, end + 1));
          }
          res.writeHead(200, { 'Content-Length': 1000, 'Content-Type': 'video/mp2t' });
          return void res.end(req.method === 'HEAD' ? undefined : body);
        }
        case '/big':
          res.writeHead(200, { 'Content-Length': Number(url.searchParams.get('size')), 'Content-Type': 'video/mp4' });
          return streamBody(res, Number(url.searchParams.get('size')), piece);
        case '/chunked':
          res.writeHead(200, { 'Content-Type': 'video/mp2t' });
          return streamBody(res, Number(url.searchParams.get('size')), piece);
        case '/upload': {
          const hash = createHash('sha256');
          let bytes = 0;
          req.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
            hash.update(chunk);
          });
          req.on('end', () => res.end(JSON.stringify({ bytes, digest: hash.digest('hex'), te: req.headers['transfer-encoding'] ?? null, length: req.headers['content-length'] ?? null })));
          return;
        }
        case '/die-mid-body':
          res.writeHead(200, url.searchParams.has('chunked') ? {} : { 'Content-Length': 10 * MiB });
          res.write(piece, () => setTimeout(() => res.socket?.destroy(), 50));
          return;
        case '/refuse-upload':
          // Answers without reading the body (as an origin refusing a too-large upload may), and
          // closes the connection only later (closing at once would reset the answer away).
          req.socket.pause();
          res.writeHead(413, { 'Content-Type': 'text/plain' }).end('too large');
          setTimeout(() => req.socket.destroy(), 3000).unref();
          return;
        case '/no-content':
          return void res.writeHead(204, { 'X-Seen': 'yes' }).end();
        case '/silent':
          return; // never answers
        case '/forever': {
          // A live response held open: a chunk every 50 ms until the proxy goes away.
          res.writeHead(200, { 'Content-Type': 'video/mp2t' });
          const timer = setInterval(() => res.write(piece.subarray(0, 1000)), 50);
          res.on('close', () => clearInterval(timer));
          return;
        }
        default:
          res.writeHead(404).end('no such thing at the origin');
      }
    });
  });
  after(() => origin?.close());

  test('the whole server proxied: path, Host, X-Forwarded-*, hop-by-hop stripped both ways, headers back', async () => {
    await withProxy(['--reverse', `127.0.0.1,${origin.port},base`], async (server) => {
      const response = await get(`${server.url}echo?q=1`, { headers: { Connection: 'keep-alive, x-private', 'X-Private': 'secret', 'X-Forwarded-For': '203.0.113.7', Cookie: 'c=3' } });
      assert.equal(response.status, 200);
      const seen = JSON.parse(response.body.toString()) as { url: string; headers: Record<string, string> };
      assert.equal(seen.url, '/base/echo?q=1');
      assert.equal(seen.headers['host'], `127.0.0.1:${origin.port}`);
      assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1', 'an untrusted peer\'s X-Forwarded-For is replaced, not appended to');
      assert.equal(seen.headers['x-forwarded-host'], new URL(server.url).host);
      assert.equal(seen.headers['x-forwarded-proto'], 'http');
      assert.equal(seen.headers['x-private'], undefined, 'a header named in Connection is hop-by-hop');
      assert.equal(seen.headers['cookie'], 'c=3');
      assert.equal(response.headers['x-hop'], undefined);
      assert.equal(response.headers['set-cookie'], 'a=1, b=2');
      assert.equal(response.headers['cache-control'], 'max-age=2');
      const missing = await get(`${server.url}nothing`);
      assert.equal(missing.status, 404, 'the upstream\'s status passes back');
      assert.equal(missing.body.toString(), 'no such thing at the origin');
      assert.equal(missing.headers['mediacast-error'], undefined, 'an upstream error is not ours');
      // Keep-alive to the upstream: 20 requests, one or two connections.
      const before = origin.connections;
      for (let i = 0; i < 20; i++) assert.equal((await get(`${server.url}echo`)).status, 200);
      assert.ok(origin.connections - before <= 2, `${origin.connections - before} upstream connections for 20 requests`);
    });
  });

  test('redirects are rewritten to this server (absolute and absolute-path), relative ones left alone, none followed', async () => {
    await withProxy(['--reverse', `127.0.0.1,${origin.port},base`], async (server) => {
      const host = new URL(server.url).host;
      const absolute = await get(`${server.url}redirect-absolute`);
      assert.equal(absolute.status, 302);
      assert.equal(absolute.headers['location'], `http://${host}/next?x=1`);
      const path = await get(`${server.url}redirect-path`);
      assert.equal(path.status, 301);
      assert.equal(path.headers['location'], `http://${host}/dir/`);
      assert.equal(path.headers['refresh'], `0; url=http://${host}/dir/`);
      const relative = await get(`${server.url}redirect-relative`);
      assert.equal(relative.headers['location'], 'elsewhere.m3u8');
      assert.equal(relative.headers['content-location'], 'http://cdn.example/base/x');
    });
    // Behind a vhost monster path, redirects name the public origin and the leaf.
    await withProxy(['--path', DEMO_MEDIA, '--monster', 'vhm', '--reverse', `127.0.0.1,${origin.port},base,cdn`], async (server) => {
      const absolute = await get(`${server.url}vhm/https/public.example/cdn/redirect-absolute`);
      assert.equal(absolute.headers['location'], 'https://public.example/cdn/next?x=1');
      const path = await get(`${server.url}vhm/http/public.example:8080/cdn/redirect-path`);
      assert.equal(path.headers['location'], 'http://public.example:8080/cdn/dir/');
      const seen = JSON.parse((await get(`${server.url}vhm/https/public.example/cdn/echo`)).body.toString()) as { headers: Record<string, string> };
      assert.equal(seen.headers['x-forwarded-host'], 'public.example');
      assert.equal(seen.headers['x-forwarded-proto'], 'https');
    });
  });

  test('a leaf next to static files; ranges, 304 and HEAD pass through; the access log shows the upstream status', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mediacast-proxy-'));
    try {
      const log = join(dir, 'access.log');
      await withProxy(['--path', DEMO_MEDIA, '--reverse', `127.0.0.1,${origin.port},base,cdn/live`, '-l', log], async (server) => {
        assert.equal((await get(`${server.url}master.m3u8`)).status, 200, 'static files still served');
        assert.equal((await get(`${server.url}cdn/live/file`)).body.length, 1000);
        const partial = await get(`${server.url}cdn/live/file`, { headers: { Range: 'bytes=10-19' } });
        assert.equal(partial.status, 206);
        assert.equal(partial.headers['content-range'], 'bytes 10-19/1000');
        assert.deepEqual(partial.body, piece.subarray(10, 20));
        const notModified = await get(`${server.url}cdn/live/file`, { headers: { 'If-None-Match': '"v1"' } });
        assert.equal(notModified.status, 304);
        assert.equal(notModified.headers['etag'], '"v1"');
        const head = await get(`${server.url}cdn/live/file`, { method: 'HEAD' });
        assert.equal(head.status, 200);
        assert.equal(head.headers['content-length'], '1000');
        assert.equal(head.body.length, 0);
        assert.equal((await get(`${server.url}cdn/livestock`)).status, 404, 'not under the leaf: a static 404');
        // Byte for byte: a WHATWG URL would resolve the dots before sending.
        const dots = await rawRequest(server.url, '/cdn/live/%2e%2e/%2e%2e/etc/passwd');
        assert.equal(dots.status, 400);
        assert.equal(dots.headers['mediacast-error'], 'bad-proxy-path');
      });
      const lines = readFileSync(log, 'utf8').trim().split('\n');
      assert.ok(lines.some((line) => /"GET \/cdn\/live\/file HTTP\/1\.1" 206 10 /.test(line)), lines.join('\n'));
      assert.ok(lines.some((line) => /"GET \/cdn\/live\/file HTTP\/1\.1" 304 - /.test(line)), lines.join('\n'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('256 MiB streamed through with a matching checksum and bounded memory; a chunked body and an upload too', async () => {
    await withProxy(['--reverse', `127.0.0.1,${origin.port}`], async (server) => {
      const size = 256 * MiB;
      let expected = createHash('sha256');
      for (let sent = 0; sent < size; sent += MiB) expected.update(piece);
      const digest = expected.digest('hex');
      const baseline = HAS_PROC ? rssBytes(server.pid) : 0;
      let peak = baseline;
      const sampler = setInterval(() => {
        if (HAS_PROC) peak = Math.max(peak, rssBytes(server.pid));
      }, 50);
      try {
        const result = await hashDownload(`${server.url}big?size=${size}`);
        assert.equal(result.status, 200);
        assert.equal(result.headers['content-length'], String(size));
        assert.equal(result.bytes, size);
        assert.equal(result.digest, digest);
      } finally {
        clearInterval(sampler);
      }
      if (HAS_PROC) assert.ok(peak - baseline < 96 * MiB, `RSS grew by ${((peak - baseline) / MiB).toFixed(1)} MiB for a 256 MiB body`);
      const chunked = await hashDownload(`${server.url}chunked?size=${8 * MiB + 123}`);
      assert.equal(chunked.headers['transfer-encoding'], 'chunked');
      expected = createHash('sha256');
      for (let sent = 0; sent < 8 * MiB; sent += MiB) expected.update(piece);
      expected.update(piece.subarray(0, 123));
      assert.equal(chunked.digest, expected.digest('hex'));
      // Uploads stream up, with their length or chunked.
      const upload = randomBytes(8 * MiB);
      for (const framing of ['length', 'chunked'] as const) {
        const answer = await new Promise<{ bytes: number; digest: string; te: string | null; length: string | null }>((resolve, reject) => {
          const req = request(`${server.url}upload`, { method: 'POST', headers: framing === 'length' ? { 'Content-Length': upload.length } : {} }, (res) => {
            readBody(res).then((body) => resolve(JSON.parse(body.toString())), reject);
          });
          req.on('error', reject);
          for (let at = 0; at < upload.length; at += MiB) req.write(upload.subarray(at, at + MiB));
          req.end();
        });
        assert.deepEqual({ bytes: answer.bytes, digest: answer.digest }, { bytes: upload.length, digest: sha256(upload) }, framing);
        // A chunked upload goes up chunked, or with its length when all of it came before the
        // upstream connection was ready (undici then knows it): never with both, never framed wrong.
        if (framing === 'chunked') assert.ok(answer.te === 'chunked' ? answer.length === null : answer.length === String(upload.length), JSON.stringify(answer));
        else assert.deepEqual([answer.te, answer.length], [null, String(upload.length)]);
      }
    });
  });

  test('a shaped client of a proxied body gets burst + rate x time within 5%, as from a file', async () => {
    await withProxy(['--reverse', `127.0.0.1,${origin.port}`, '--shape', '200kB'], async (server) => {
      const result = await download(`${server.url}big?size=${64 * MiB}`, { localAddress: '127.0.0.2', stopAfterMs: 4000 });
      const expected = 200_000 + (200_000 * result.elapsedMs) / 1000;
      assert.ok(Math.abs(result.bytes - expected) / expected < 0.05, `got ${result.bytes} B, expected ${expected.toFixed(0)} B`);
      // The upstream was paused, not drained into memory: it sent little more than the client got
      // (what the proxy queues plus the kernel's socket buffers), far less than the body.
      assert.equal(result.complete, false);
      assert.ok(originSent < result.bytes + 16 * MiB, `the origin sent ${(originSent / MiB).toFixed(1)} MiB while the client got ${(result.bytes / MiB).toFixed(1)} MiB`);
    });
  });

  test('failures: 502 refused, 502 at once while a check says down, back when up, 504 silent, cut mid-body, abort propagates', async () => {
    // A port with nothing behind it (taken then released).
    const spare = await startOrigin(() => {});
    const deadPort = spare.port;
    await spare.close();
    await withProxy(['--reverse', `127.0.0.1,${deadPort},,dead`, '--reverse', `127.0.0.1,${origin.port},,up`, '--proxy-check-interval', '0.2', '--proxy-timeout', '1'], async (server) => {
      assert.ok(await waitFor(() => /upstream http:\/\/127\.0\.0\.1:\d+ is down \(connect ECONNREFUSED\)/.test(server.stderr()), 3000), server.stderr());
      const down = await get(`${server.url}dead/x`);
      assert.equal(down.status, 502);
      assert.equal(down.headers['mediacast-error'], 'upstream-down');
      // It comes back: the next checks see it and say so.
      const revived = await startOrigin((_req, res) => res.end('alive'), { port: deadPort });
      try {
        assert.ok(await waitFor(async () => (await get(`${server.url}dead/x`)).status === 200, 5000), server.stderr());
        assert.match(server.stderr(), /is up again/);
      } finally {
        await revived.close();
      }
      const silentStart = performance.now();
      const silent = await get(`${server.url}up/silent`);
      assert.equal(silent.status, 504);
      assert.equal(silent.headers['mediacast-error'], 'upstream-timeout');
      assert.ok(performance.now() - silentStart < 5000);
      // Dying mid-body: the client sees the connection cut, never a short 200.
      for (const suffix of ['', '?chunked']) {
        await assert.rejects(hashDownload(`${server.url}up/die-mid-body${suffix}`), /aborted|socket hang up|ECONNRESET|terminated|Parse Error/i, `die-mid-body${suffix}`);
      }
      // The client goes away: the upstream request is closed at once.
      await new Promise<void>((resolve, reject) => {
        const req = request(`${server.url}up/forever`, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', (error) => ((error as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve() : reject(error)));
        req.end();
      });
      const foreverRequest = origin.requests.filter((r) => r.url === '/forever').at(-1)!;
      assert.ok(await waitFor(() => foreverRequest.socket.destroyed || foreverRequest.destroyed, 2000), 'the upstream request was closed');
    });
    // A refused connection marks the upstream down at once, and the next check (every second
    // while down, however long the interval) brings it back.
    await withProxy(['--reverse', `127.0.0.1,${deadPort}`, '--proxy-check-interval', '60'], async (server) => {
      assert.ok(await waitFor(() => /is down/.test(server.stderr()), 3000), server.stderr());
      const revived = await startOrigin((_req, res) => res.end('back'), { port: deadPort });
      try {
        const started = performance.now();
        assert.ok(await waitFor(async () => (await get(`${server.url}x`)).status === 200, 5000), server.stderr());
        assert.ok(performance.now() - started < 5000, 'back within seconds, not at the next 60 s check');
        await revived.close();
        const refused = await get(`${server.url}x`);
        assert.equal(refused.status, 502);
        const again = await startOrigin((_req, res) => res.end('back again'), { port: deadPort });
        try {
          assert.ok(await waitFor(async () => (await get(`${server.url}x`)).body.toString() === 'back again', 5000), server.stderr());
          assert.match(server.stderr(), /is down \(a connection from a worker was refused\)/);
        } finally {
          await again.close();
        }
      } finally {
        await revived.close();
      }
    });
    // Without checks a refused connection is a 502 of its own.
    await withProxy(['--reverse', `127.0.0.1,${deadPort}`, '--proxy-check-interval', '0'], async (server) => {
      const refused = await get(`${server.url}x`);
      assert.equal(refused.status, 502);
      assert.equal(refused.headers['mediacast-error'], 'upstream-unreachable');
    });
  });

  test('an upstream that answers before reading an upload: the answer arrives and the connection keeps working', async () => {
    await withProxy(['--reverse', `127.0.0.1,${origin.port}`], async (server) => {
      const { Agent } = await import('node:http');
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        // Far more than the kernel buffers on the way hold: the proxy must pause the client.
        const upload = Buffer.alloc(64 * MiB, 1);
        const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
          const req = request(`${server.url}refuse-upload`, { method: 'PUT', agent, headers: { 'Content-Length': upload.length } }, (res) => {
            readBody(res).then((body) => resolve({ status: res.statusCode ?? 0, body: body.toString() }), reject);
          });
          req.on('error', reject);
          req.end(upload);
        });
        assert.deepEqual(answer, { status: 413, body: 'too large' });
        // The same client goes on: a paused socket left behind would hang this.
        const next = await new Promise<number>((resolve, reject) => {
          const req = request(`${server.url}echo`, { agent }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          });
          req.setTimeout(10_000, () => req.destroy(new Error('the connection hung after the upload')));
          req.on('error', reject);
          req.end();
        });
        assert.equal(next, 200);
      } finally {
        agent.destroy();
      }
      // HEAD of a chunked response and a 204 have no body, and say so.
      const head = await get(`${server.url}chunked?size=1000`, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.body.length, 0);
      const empty = await get(`${server.url}no-content`);
      assert.equal(empty.status, 204);
      assert.equal(empty.headers['x-seen'], 'yes');
      assert.equal(empty.body.length, 0);
    });
  });

  test('no descriptor leaks after aborted, refused and completed requests', { skip: !HAS_PROC && 'needs /proc' }, async () => {
    await withProxy(['--reverse', `127.0.0.1,${origin.port}`], async (server) => {
      const fds = () => readdirSync(`/proc/${server.pid}/fd`).length;
      await get(`${server.url}echo`);
      const before = fds();
      for (let i = 0; i < 30; i++) {
        await new Promise<void>((resolve) => {
          const req = request(`${server.url}forever`, (res) => res.once('data', () => (req.destroy(), resolve())));
          req.on('error', () => resolve());
          req.end();
        });
        await get(`${server.url}file`, { headers: { Connection: 'close' } });
      }
      // Keep-alive upstream connections idle out after 4 s; allow the pool a few.
      assert.ok(await waitFor(() => fds() <= before + 4, 8000), `${fds()} descriptors, ${before} before`);
    });
  });

  test('https upstreams: certificates verified, SNI sent; --proxy-insecure for a self-signed test origin', { skip: !hasOpenssl && 'openssl is not installed' }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mediacast-tls-'));
    try {
      const key = join(dir, 'key.pem');
      const cert = join(dir, 'cert.pem');
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
      const { address } = await lookup('localhost');
      const tlsOrigin = await startOrigin((req, res) => res.end(JSON.stringify({ sni: (req.socket as import('node:tls').TLSSocket).servername, host: req.headers.host })), {
        host: address,
        tls: { key: readFileSync(key), cert: readFileSync(cert) },
      });
      try {
        await withProxy(['--reverse', `https://localhost:${tlsOrigin.port}/,,,tls`], async (server) => {
          const refused = await get(`${server.url}tls/x`);
          assert.equal(refused.status, 502, 'a self-signed certificate is not trusted by default');
          assert.equal(refused.headers['mediacast-error'], 'upstream-failed');
        });
        await withProxy(['--reverse', `https://localhost:${tlsOrigin.port}/,,,tls`, '--proxy-insecure'], async (server) => {
          const answer = await get(`${server.url}tls/x`);
          assert.equal(answer.status, 200);
          assert.deepEqual(JSON.parse(answer.body.toString()), { sni: 'localhost', host: `localhost:${tlsOrigin.port}` });
        });
      } finally {
        await tlsOrigin.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
