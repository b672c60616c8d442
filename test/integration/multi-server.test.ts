/**
 * Several servers, virtual hosts, aliases and the access log, over real sockets.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { probeTcpPort } from '../../src/coordinator/listen-checks.js';
import { get } from '../helpers/http.js';
import { waitFor } from '../helpers/proc.js';
import { startCli } from '../helpers/server-process.js';

let dir: string;
const put = (relative: string, content: string | Buffer): void => {
  const path = join(dir, relative);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, content);
};

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'mediacast-multi-'));
  for (const name of ['a', 'b', 'c', 'd']) put(`${name}/who.txt`, name);
  put('a/big.bin', Buffer.alloc(300_000, 1));
  put('c/big.bin', Buffer.alloc(300_000, 1));
  put('d/big.bin', Buffer.alloc(300_000, 1));
  put('a/huge.bin', '');
  truncateSync(join(dir, 'a/huge.bin'), 64 * 1024 ** 2);
  put('b/videos/clip.ts', 'clip');
  put('d/start.html', 'start d');
  put('d/index.html', 'index d');
});

after(() => rmSync(dir, { recursive: true, force: true }));

const fetchText = async (url: string, host?: string): Promise<{ status: number; body: string; location?: string }> => {
  const res = await get(url, host ? { headers: { host } } : {});
  return { status: res.status, body: res.body.toString(), ...(res.headers.location ? { location: res.headers.location } : {}) };
};

describe('the seed-style command line over real sockets', () => {
  test('hosts route to their roots on both ports, the alias serves its target, indexes per vhost, shaping on the first port only', async () => {
    const first = await probeTcpPort({ kind: 'tcp', port: 0, host: '127.0.0.1' });
    const second = await probeTcpPort({ kind: 'tcp', port: 0 });
    const args = ['--path', 'a', '-p', `tcp:${first}:interface=127.0.0.1`, '-s', '100000', '-v', 'one.local', '--path', 'b', '-a', 'media,videos'];
    args.push('-h', String(second), '--path', 'c', '-v', 'two.local', '--path', 'd', '-i', 'start.html', '-s', '100000', '--workers', '2');
    const server = await startCli(args, { cwd: dir, loopbackPort: false, servers: 2 });
    const one = `http://127.0.0.1:${first}`;
    const two = `http://127.0.0.1:${second}`;
    try {
      assert.equal((await fetchText(`${one}/who.txt`, 'one.local')).body, 'b');
      assert.equal((await fetchText(`${one}/who.txt`, `ONE.Local.:${first}`)).body, 'b', 'case and trailing dot ignored');
      assert.equal((await fetchText(`${one}/who.txt`, 'elsewhere.example')).body, 'a');
      assert.equal((await fetchText(`${one}/who.txt`, 'two.local')).body, 'a', 'two.local belongs to the other server');
      assert.equal((await fetchText(`${one}/media/clip.ts`, 'one.local')).body, 'clip');
      assert.deepEqual(await fetchText(`${one}/media`, 'one.local'), { status: 301, body: (await fetchText(`${one}/media`, 'one.local')).body, location: '/media/' });
      assert.equal((await fetchText(`${two}/who.txt`, 'two.local')).body, 'd');
      assert.equal((await fetchText(`${two}/`, 'two.local')).body, 'start d', '-i start.html applies to two.local');
      assert.equal((await fetchText(`${two}/who.txt`, 'one.local')).body, 'c');
      // 300 kB with a 100 kB burst at 100 kB/s: about 2 s on the first port, at once on the second.
      let started = performance.now();
      assert.equal((await get(`${one}/big.bin`)).body.length, 300_000);
      const shaped = performance.now() - started;
      started = performance.now();
      assert.equal((await get(`${two}/big.bin`)).body.length, 300_000);
      const unshaped = performance.now() - started;
      assert.ok(shaped > 1500 && shaped < 4000, `port ${first} took ${shaped.toFixed(0)} ms`);
      assert.ok(unshaped < 1000, `port ${second} took ${unshaped.toFixed(0)} ms`);
      // -s after -v two.local limits that virtual host only.
      started = performance.now();
      assert.equal((await get(`${two}/big.bin`, { headers: { host: 'two.local' } })).body.length, 300_000);
      const vhost = performance.now() - started;
      assert.ok(vhost > 1500 && vhost < 4000, `two.local took ${vhost.toFixed(0)} ms`);
      assert.match(server.stdout(), /virtual host two\.local, inside the server's limits: server limit: 100,000 B\/s/);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });
});

/** remote ident user [time] "request" status bytes "referer" "agent" */
const COMBINED =
  /^(\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f:]+) - - \[\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "([A-Z]+) (\S+) HTTP\/1\.1" (\d{3}) (\d+|-) "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"$/;

function logLines(path: string): string[] {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((l) => l !== '') : [];
}

describe('access log (-l)', () => {
  const logPath = (): string => join(dir, 'access.log');

  test('one whole combined-format line per response, with the bytes actually sent, aborted ones too', async () => {
    const server = await startCli(['--path', 'a', '-l', 'access.log', '--workers', '2'], { cwd: dir });
    const url = (path: string): string => new URL(path, server.url).href;
    try {
      const ok = await get(url('/who.txt'), { headers: { referer: 'http://player.example/', 'user-agent': 'test-agent "1"' } });
      await get(url('/big.bin'), { headers: { range: 'bytes=0-99' } });
      await get(url('/who.txt'), { headers: { 'if-none-match': ok.headers.etag! } });
      await get(url('/missing.ts?x=1'));
      await new Promise<void>((resolveAbort) => {
        const req = request(url('/huge.bin'), { headers: {}, agent: false }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolveAbort();
          });
        });
        req.end();
      });
      assert.ok(await waitFor(() => logLines(logPath()).length >= 5, 5000), `log has ${logLines(logPath()).length} lines`);
      const parsed = logLines(logPath()).map((line) => {
        const match = COMBINED.exec(line);
        assert.ok(match, `not a combined log line: ${line}`);
        return { remote: match[1], target: match[3], status: Number(match[4]), bytes: match[5], referer: match[6], agent: match[7] };
      });
      const byTarget = (target: string, status: number) => parsed.find((p) => p.target === target && p.status === status);
      assert.deepEqual(byTarget('/who.txt', 200), { remote: '127.0.0.1', target: '/who.txt', status: 200, bytes: '1', referer: 'http://player.example/', agent: 'test-agent \\"1\\"' });
      assert.equal(byTarget('/big.bin', 206)?.bytes, '100');
      assert.equal(byTarget('/who.txt', 304)?.bytes, '-');
      assert.ok(byTarget('/missing.ts?x=1', 404));
      assert.ok(await waitFor(() => logLines(logPath()).some((l) => l.includes('/huge.bin')), 5000), 'the aborted download is logged');
      const aborted = logLines(logPath()).map((l) => COMBINED.exec(l)!).find((m) => m[3] === '/huge.bin')!;
      assert.equal(aborted[4], '200');
      assert.ok(Number(aborted[5]) > 0 && Number(aborted[5]) < 64 * 1024 ** 2, `aborted after ${aborted[5]} bytes`);
    } finally {
      assert.equal(await server.stop(), 0);
      rmSync(logPath(), { force: true });
    }
  });

  test('-l - writes the log to standard output, and only the log: status lines go to standard error', async () => {
    const server = await startCli(['--path', 'a', '-l', '-', '--workers', '1'], { cwd: dir });
    await get(new URL('/who.txt', server.url).href, { headers: { 'user-agent': 'to-stdout' } });
    assert.ok(await waitFor(() => server.stdout().includes('"to-stdout"'), 5000));
    assert.equal(await server.stop(), 0);
    const lines = server.stdout().trimEnd().split('\n');
    assert.equal(lines.length, 1, server.stdout());
    assert.match(lines[0]!, COMBINED);
    assert.match(server.stderr(), /^serving .* at http:\/\/127\.0\.0\.1:\d+\/$/m);
  });

  test('lines from several workers under load are all whole; SIGHUP reopens the file after a rename', async () => {
    const server = await startCli(['--path', 'a', '-l', 'access.log', '--workers', '2'], { cwd: dir });
    const url = new URL('/who.txt', server.url).href;
    const requests = 600;
    try {
      // 30 concurrent clients, 20 requests each, each on fresh connections spread over both workers.
      await Promise.all(
        Array.from({ length: 30 }, async (_, c) => {
          for (let i = 0; i < requests / 30; i++) await get(url, { headers: { connection: 'close', 'user-agent': `client-${c}-${i}` } });
        }),
      );
      assert.ok(await waitFor(() => logLines(logPath()).length >= requests, 5000));
      const lines = logLines(logPath());
      assert.equal(lines.length, requests);
      assert.ok(lines.every((line) => COMBINED.test(line)), 'every line whole');
      assert.equal(new Set(lines.map((l) => /"client-\d+-\d+"$/.exec(l)?.[0])).size, requests, 'no line lost or duplicated');

      renameSync(logPath(), `${logPath()}.1`);
      server.child.kill('SIGHUP');
      assert.ok(await waitFor(() => existsSync(logPath()), 5000), 'SIGHUP created a new log file');
      await get(url, { headers: { 'user-agent': 'after-rotation' } });
      assert.ok(await waitFor(() => logLines(logPath()).some((l) => l.endsWith('"after-rotation"')), 5000));
      assert.equal(logLines(`${logPath()}.1`).length, requests, 'the rotated file kept its lines');
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });
});
