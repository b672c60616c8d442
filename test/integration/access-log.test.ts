/**
 * The access log under hostile input and a log that cannot keep up: every byte a reader could
 * mistake is escaped, memory stays bounded behind a stalled pipe, a failed log is retried on
 * SIGHUP; and the limits of what reaches the log at all (requests uWS refuses itself).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { get, rawRequest } from '../helpers/http.js';
import { HAS_PROC, rssBytes, waitFor } from '../helpers/proc.js';
import { startCli } from '../helpers/server-process.js';

let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'mediacast-log-'));
  writeFileSync(join(dir, 'a.txt'), 'a');
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** Sends raw bytes (`later` 50 ms after, as a second TCP segment) and resolves with the status line of the answer. */
function rawBytes(url: string, bytes: Buffer, later?: Buffer): Promise<string> {
  const { port, hostname } = new URL(url);
  return new Promise((resolveLine, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.setNoDelay(true);
      socket.write(bytes);
      if (later) setTimeout(() => socket.write(later), 50);
    });
    let data = '';
    socket.on('data', (d: Buffer) => {
      data += d.toString('latin1');
      const end = data.indexOf('\r\n');
      if (end < 0) return;
      socket.destroy();
      resolveLine(data.slice(0, end));
    });
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer')));
    socket.on('error', reject);
  });
}

describe('access log', () => {
  test('bytes outside printable ASCII are escaped as \\xHH (C1 controls, UTF-8, DEL), quotes and backslashes too', async () => {
    const log = join(dir, 'escape.log');
    const server = await startCli(['--path', dir, '--workers', '1', '-l', log]);
    try {
      await rawRequest(server.url, Buffer.from('/a\xc2\x85\xc2\x9b\xc3\xa9"\\.txt?q=1', 'latin1'), { headers: { 'User-Agent': 'ua\x7f\t\u0085 "x"' } });
    } finally {
      assert.equal(await server.stop(), 0);
    }
    const line = readFileSync(log, 'latin1').trimEnd();
    assert.match(line, /^[\x20-\x7e]+$/, `non-printable bytes left in ${JSON.stringify(line)}`);
    assert.ok(line.includes('"GET /a\\xc2\\x85\\xc2\\x9b\\xc3\\xa9\\"\\\\.txt?q=1 HTTP/1.1" 400'), line);
    assert.ok(line.endsWith('"ua\\x7f\\x09\\xc2\\x85 \\"x\\""'), line);
  });

  test('--response-timing adds the response time, the rate achieved and the limit in force after the combined fields', async () => {
    writeFileSync(join(dir, 'timed.bin'), Buffer.alloc(200_000, 3));
    const log = join(dir, 'timing.log');
    const server = await startCli(['--path', dir, '--workers', '1', '-l', log, '--response-timing', '--shape', '-,100kB,-,1kB']);
    try {
      assert.equal((await get(`${server.url}timed.bin`)).status, 200);
      assert.equal((await rawRequest(server.url, '/a.txt', { method: 'HEAD' })).status, 200);
    } finally {
      assert.equal(await server.stop(), 0);
    }
    const lines = readFileSync(log, 'latin1').trimEnd().split('\n');
    // The combined fields as a combined-log reader takes them, then the three more.
    const fields = /^(\S+) - - \[[^\]]+\] "([^"]*)" (\d{3}) (\d+|-) "[^"]*" "[^"]*" rt=(\d+\.\d{3}) rate=(\d+) limit=(\d+|-)$/;
    const shaped = fields.exec(lines.find((line) => line.includes('/timed.bin'))!)!;
    assert.ok(shaped, lines.join('\n'));
    const [seconds, rate, limit] = [Number(shaped[5]), Number(shaped[6]), shaped[7]];
    // 200 kB at 100 kB/s with a 1 kB burst: two seconds.
    assert.ok(seconds > 1.7 && seconds < 3, `rt=${seconds}`);
    assert.ok(rate > 70_000 && rate <= 115_000, `rate=${rate}`);
    assert.equal(limit, '100000');
    const plain = fields.exec(lines.find((line) => line.includes('/a.txt'))!);
    assert.ok(plain, lines.join('\n'));
    assert.equal(plain[7], '-', 'a response without a body was not paced: no limit');
  });

  test('behind a stalled pipe, lines are dropped and counted instead of piling up; a failed log is retried on SIGHUP', { skip: !HAS_PROC && 'needs /proc' }, async () => {
    const fifo = join(dir, 'log.fifo');
    execFileSync('mkfifo', [fifo]);
    // A reader that never reads: the pipe fills, then the log's writes wait forever.
    let reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const server = await startCli(['--path', dir, '--workers', '1', '-l', fifo]);
    const agent = new Agent({ keepAlive: true, maxSockets: 20 });
    const userAgent = 'x'.repeat(4000);
    const hit = (): Promise<void> =>
      new Promise((resolveHit, reject) => {
        const req = request(new URL('/a.txt', server.url), { agent, headers: { 'user-agent': userAgent } }, (res) => {
          res.resume();
          res.on('end', resolveHit);
        });
        req.on('error', reject);
        req.end();
      });
    try {
      const before = rssBytes(server.pid);
      // 6,000 lines of 4 KB: 24 MB of log behind a pipe that takes 64 KB.
      for (let round = 0; round < 300; round++) await Promise.all(Array.from({ length: 20 }, hit));
      const grown = rssBytes(server.pid) - before;
      assert.ok(grown < 40 * 1024 * 1024, `RSS grew by ${(grown / 1024 / 1024).toFixed(1)} MiB`);
      // Once the reader catches up, the server says how many lines it dropped.
      const sink = Buffer.alloc(1 << 16);
      const drained = await waitFor(() => {
        try {
          while (readSync(reader, sink) > 0);
        } catch {
          // EAGAIN: empty for now.
        }
        return /lines dropped while the log could not keep up/.test(server.stderr());
      }, 10_000);
      assert.ok(drained, server.stderr());
      // The reader goes away: writes fail (EPIPE), and the log says it stopped writing.
      closeSync(reader);
      reader = -1;
      await hit();
      assert.ok(await waitFor(() => /lines are dropped until it is reopened \(SIGHUP\)/.test(server.stderr()), 5000), server.stderr());
      // The operator puts a file there and sends SIGHUP: logging resumes.
      rmSync(fifo);
      server.child.kill('SIGHUP');
      const logged = await waitFor(async () => {
        await hit();
        await new Promise((resolveTick) => setTimeout(resolveTick, 150));
        return readFileSync(fifo, 'utf8').includes('"GET /a.txt HTTP/1.1" 200');
      }, 5000);
      assert.ok(logged, 'no line in the reopened log');
    } finally {
      agent.destroy();
      if (reader >= 0) closeSync(reader);
      assert.equal(await server.stop(), 0);
    }
  });

  test('request heads up to --max-header-size (16 KiB by default) are accepted; uWS answers larger ones, and HTTP/1.0, itself, with no log line', async () => {
    const log = join(dir, 'limits.log');
    const server = await startCli(['--path', dir, '--workers', '1', '-l', log]);
    const wide = await startCli(['--path', dir, '--workers', '1', '--max-header-size', '64KiB']);
    try {
      const cookie = 'c'.repeat(12_000);
      assert.equal((await get(new URL('/a.txt', server.url).href, { headers: { cookie } })).status, 200, '12 KB of cookie');
      const huge = Buffer.from(`GET /a.txt HTTP/1.1\r\nHost: x\r\nCookie: ${'c'.repeat(20_000)}\r\n\r\n`);
      assert.equal(await rawBytes(server.url, huge), 'HTTP/1.1 431 Request Header Fields Too Large');
      assert.match(await rawBytes(wide.url, huge), /^HTTP\/1.1 200 OK$/);
      // Documented limits of the pinned uWS build: HTTP/1.0 is refused with 505, and so is a
      // request line that arrives in two TCP segments.
      assert.equal(await rawBytes(server.url, Buffer.from('GET /a.txt HTTP/1.0\r\nHost: x\r\n\r\n')), 'HTTP/1.1 505 HTTP Version Not Supported');
      assert.equal(await rawBytes(server.url, Buffer.from('GET /a.txt HT'), Buffer.from('TP/1.1\r\nHost: x\r\n\r\n')), 'HTTP/1.1 505 HTTP Version Not Supported');
    } finally {
      assert.equal(await server.stop(), 0);
      assert.equal(await wide.stop(), 0);
    }
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    assert.equal(lines.length, 1, 'only the request the server itself answered is logged');
    assert.match(lines[0]!, /"GET \/a\.txt HTTP\/1\.1" 200 1 /);
  });
});
