/**
 * Fault injection and network profiles through the control plane, against a running server over
 * real sockets: each fault does exactly what was asked (a status on a share of the requests of a
 * path pattern, time before the first byte, a stall after N bytes, a cut after N bytes), only to
 * the client named; rules are listed and removed; a profile gives a client its rate and latency.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { adminUrl, runCli, startCli, type ServerProcess } from '../helpers/server-process.js';

interface Timed {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** From the request to the response head, and to each cumulative byte count. */
  headMs: number;
  samples: Array<[number, number]>;
  bytes: number;
}

/** A GET from `localAddress` that timestamps its head and every body chunk. */
function timedGet(url: string, localAddress: string): Promise<Timed> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    request(url, { localAddress, agent: false }, (res) => {
      const result: Timed = { status: res.statusCode ?? 0, headers: res.headers, headMs: performance.now() - start, samples: [], bytes: 0 };
      res.on('data', (chunk: Buffer) => {
        result.bytes += chunk.length;
        result.samples.push([performance.now() - start, result.bytes]);
      });
      res.on('end', () => resolve(result));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

/** Every byte a raw socket from `localAddress` receives for GET `path` until the server closes. */
function rawBytes(base: URL, path: string, localAddress: string, pauseMs = 0): Promise<{ head: string; body: number }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port: Number(base.port), host: base.hostname, localAddress }, () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${base.host}\r\nConnection: close\r\n\r\n`);
      // A slow reader: the server's buffers fill before it reads anything.
      if (pauseMs > 0) {
        socket.pause();
        setTimeout(() => socket.resume(), pauseMs);
      }
    });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.setTimeout(10_000, () => socket.destroy(new Error('no close from the server within 10 s')));
    socket.on('error', reject);
    socket.on('close', () => {
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      resolve({ head: all.subarray(0, end).toString('latin1'), body: all.length - end - 4 });
    });
  });
}

async function api(admin: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(new URL(path, admin), { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: response.status, json: await response.json() };
}

describe('fault injection and profiles', { concurrency: true }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mediacast-faults-'));
    writeFileSync(join(dir, 'seg.ts'), Buffer.alloc(400_000, 1));
    writeFileSync(join(dir, 'half.ts'), Buffer.alloc(200_000, 1));
    writeFileSync(join(dir, 'half.ts.bak'), Buffer.alloc(200_000, 1));
    writeFileSync(join(dir, 'index.m3u8'), '#EXTM3U\n');
    writeFileSync(join(dir, 'small.m3u8'), `#EXTM3U\n${'#EXT-X-COMMENT\n'.repeat(1000)}`);
    writeFileSync(join(dir, 'big.mp4'), Buffer.alloc(24 * 1024 * 1024, 2));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function serve(args: readonly string[]): Promise<{ server: ServerProcess; admin: string }> {
    const server = await startCli(['--path', dir, '--workers', '2', '--admin', 'tcp:0:interface=127.0.0.1', ...args]);
    const admin = adminUrl(server);
    return { server, admin };
  }

  test('a status on a share of one path pattern, for one client only; listed, removed one by one; bad rules refused', async () => {
    const { server, admin } = await serve([]);
    try {
      const always = await api(admin, 'POST', 'servers/0/faults', { path: '*.m3u8', client: '127.0.0.70', status: 503 });
      assert.equal(always.status, 200, JSON.stringify(always.json));
      const half = await api(admin, 'POST', 'servers/0/faults', { path: '/seg.*', status: 404, share: 0.5 });
      assert.equal(half.status, 200);
      const hit = await timedGet(`${server.url}index.m3u8`, '127.0.0.70');
      assert.equal(hit.status, 503);
      assert.equal(hit.headers['mediacast-error'], 'injected-fault');
      assert.equal((await timedGet(`${server.url}index.m3u8`, '127.0.0.71')).status, 200, 'another client is not touched');
      let missing = 0;
      for (let i = 0; i < 200; i++) if ((await timedGet(`${server.url}seg.ts`, '127.0.0.71')).status === 404) missing++;
      // Binomial(200, 0.5): 100 +- 7; outside 60..140 is far beyond chance.
      assert.ok(missing >= 60 && missing <= 140, `${missing} of 200 requests got the 404`);
      const listed = (await runCli(['ctl', '--admin', admin, 'faults'], { timeoutMs: 10_000 }));
      assert.equal(listed.code, 0, listed.stderr);
      const rules = JSON.parse(listed.stdout) as Array<{ id: number; path: string; status: number; share: number; client: string | null }>;
      assert.deepEqual(rules.map((rule) => [rule.path, rule.client, rule.status, rule.share]), [['*.m3u8', '127.0.0.70', 503, 1], ['/seg.*', null, 404, 0.5]]);
      const removed = await runCli(['ctl', '--admin', admin, 'unfault', String(rules[0]!.id)], { timeoutMs: 10_000 });
      assert.equal(removed.code, 0, removed.stderr);
      assert.equal((await timedGet(`${server.url}index.m3u8`, '127.0.0.70')).status, 200, 'the removed rule no longer applies');
      assert.equal((await api(admin, 'DELETE', `servers/0/faults/${rules[0]!.id}`)).status, 404);
      assert.deepEqual((await api(admin, 'DELETE', 'servers/0/faults')).json, { removed: 1 });
      for (let i = 0; i < 20; i++) assert.equal((await timedGet(`${server.url}seg.ts`, '127.0.0.71')).status, 200);
      const refusals: Array<[unknown, RegExp]> = [
        [{ status: 200 }, /status: expected an error status from 400 to 599/],
        [{ stallAfter: 1000 }, /stallAfter and stallMs go together/],
        [{ cutAfter: '10 bytes' }, /cutAfter: /],
        [{ share: 0, status: 503 }, /share: expected a number above 0 and at most 1/],
        [{ client: '10.1', status: 503 }, /"10\.1" is neither an IP address/],
        [{ latency: 5 }, /latency: not a fault field/],
        [{ path: '*.ts' }, /a fault needs at least one of/],
      ];
      for (const [body, message] of refusals) {
        const answer = await api(admin, 'POST', 'servers/0/faults', body);
        assert.equal(answer.status, 400, JSON.stringify(body));
        assert.match((answer.json as { error: string }).error, message);
      }
      const badCli = await runCli(['ctl', '--admin', admin, 'fault', 'all', 'stall=64kB'], { timeoutMs: 10_000 });
      assert.equal(badCli.code, 2);
      assert.match(badCli.stderr, /stall=64kB: expected BYTES:MS/);
    } finally {
      await server.stop();
    }
  });

  test('time before the first byte, a stall after N bytes for M ms, and a cut after exactly N bytes', async () => {
    const { server, admin } = await serve(['--shape', '-,4MB']);
    try {
      const base = new URL(server.url);
      const ctl = (...words: string[]) => runCli(['ctl', '--admin', admin, ...words], { timeoutMs: 10_000 });
      assert.equal((await ctl('fault', '127.0.0.72', 'ttfb=600')).code, 0);
      assert.equal((await ctl('fault', '127.0.0.73', 'stall=100000:1200')).code, 0);
      assert.equal((await ctl('fault', '127.0.0.74', 'path=*.ts', 'cut=123457')).code, 0);
      assert.equal((await ctl('fault', '127.0.0.75', 'cut=0')).code, 0);
      const late = await timedGet(`${server.url}seg.ts`, '127.0.0.72');
      assert.equal(late.status, 200);
      assert.equal(late.bytes, 400_000);
      assert.ok(late.headMs >= 590, `head after ${late.headMs.toFixed(0)} ms`);
      const prompt = await timedGet(`${server.url}seg.ts`, '127.0.0.76');
      assert.ok(prompt.headMs < late.headMs - 300, `an untouched client's head after ${prompt.headMs.toFixed(0)} ms`);

      const stalled = await timedGet(`${server.url}seg.ts`, '127.0.0.73');
      assert.equal(stalled.bytes, 400_000, 'the stalled body completes');
      // The longest gap between chunks comes right at 100,000 bytes and lasts the stall.
      let gap = 0;
      let at = 0;
      for (let i = 1; i < stalled.samples.length; i++) {
        const pause = stalled.samples[i]![0] - stalled.samples[i - 1]![0];
        if (pause > gap) [gap, at] = [pause, stalled.samples[i - 1]![1]];
      }
      assert.equal(at, 100_000, 'bytes received when the stall began');
      assert.ok(gap >= 1150 && gap < 4000, `stall of ${gap.toFixed(0)} ms`);

      const cut = await rawBytes(base, '/seg.ts', '127.0.0.74');
      assert.match(cut.head, /^HTTP\/1\.1 200 /);
      assert.match(cut.head, /content-length: 400000/i);
      assert.equal(cut.body, 123_457);
      assert.equal((await rawBytes(base, '/half.ts.bak', '127.0.0.74')).body, 200_000, 'the pattern spares other paths');
      const before = await rawBytes(base, '/seg.ts', '127.0.0.75');
      assert.match(before.head, /content-length: 400000/i, 'a cut before the first byte still announces the length');
      assert.equal(before.body, 0);
    } finally {
      await server.stop();
    }
  });

  test('unshaped: a cut is exact behind a slow reader (most of the body still in the server\'s buffers), and a small body from memory is cut and stalled too', async () => {
    const { server, admin } = await serve([]);
    try {
      const base = new URL(server.url);
      assert.equal((await api(admin, 'POST', 'servers/0/faults', { client: '127.0.0.79', path: '*.mp4', cutAfter: 20_000_001 })).status, 200);
      assert.equal((await api(admin, 'POST', 'servers/0/faults', { client: '127.0.0.79', path: '*.m3u8', cutAfter: 1000 })).status, 200);
      assert.equal((await api(admin, 'POST', 'servers/0/faults', { client: '127.0.0.80', path: '*.m3u8', stallAfter: 500, stallMs: 800 })).status, 200);
      const slow = await rawBytes(base, '/big.mp4', '127.0.0.79', 1500);
      assert.equal(slow.body, 20_000_001);
      const small = await rawBytes(base, '/small.m3u8', '127.0.0.79');
      assert.match(small.head, /content-length: 15008/i);
      assert.equal(small.body, 1000);
      const stalled = await timedGet(`${server.url}small.m3u8`, '127.0.0.80');
      assert.equal(stalled.bytes, 15_008);
      assert.ok(stalled.samples.at(-1)![0] - stalled.headMs >= 750, `the small body took ${(stalled.samples.at(-1)![0] - stalled.headMs).toFixed(0)} ms after its head`);
      assert.equal((await rawBytes(base, '/small.m3u8', '127.0.0.81')).body, 15_008, 'other clients get it whole');
    } finally {
      await server.stop();
    }
  });

  test('profiles: listed with their numbers; slow-3g gives one client 2 s before each first byte and 50 kB/s, others keep theirs; off again', async () => {
    const { server, admin } = await serve(['--shape', '-,1MB']);
    try {
      const listed = await runCli(['ctl', '--admin', admin, 'profiles'], { timeoutMs: 10_000 });
      assert.equal(listed.code, 0, listed.stderr);
      const profiles = JSON.parse(listed.stdout) as Array<{ name: string; rate: number; latencyMs: number }>;
      assert.deepEqual(
        profiles.map(({ name, rate, latencyMs }) => [name, rate, latencyMs]),
        [['slow-3g', 50_000, 2000], ['slow-4g', 180_000, 562.5], ['fast-4g', 1_012_500, 165], ['gprs', 6_250, 500], ['edge', 31_250, 300], ['3g', 93_750, 250], ['dsl', 1_000_000, 40], ['wifi', 3_750_000, 40]],
      );
      const set = await runCli(['ctl', '--admin', admin, 'profile', '127.0.0.77', 'slow-3g'], { timeoutMs: 10_000 });
      assert.equal(set.code, 0, set.stderr);
      const slow = await timedGet(`${server.url}half.ts`, '127.0.0.77');
      assert.ok(slow.headMs >= 1990, `head after ${slow.headMs.toFixed(0)} ms`);
      const seconds = (slow.samples.at(-1)![0] - slow.headMs) / 1000;
      // 200 kB at 50 kB/s (a burst of 5 kB): 4 s.
      assert.ok(seconds > 3.2 && seconds < 6, `the body took ${seconds.toFixed(1)} s`);
      // Its bucket held the body back about 4 s: counted in its slot and in the metrics.
      const listing = (await api(admin, 'GET', 'servers/0/clients')).json as { clients: Array<{ client: string; tokenWaitSeconds: number; ended: number }> };
      const waited = listing.clients.find((c) => c.client === '127.0.0.77');
      assert.ok(waited && waited.tokenWaitSeconds > 2.5 && waited.ended === 1, JSON.stringify(waited));
      const metrics = await (await fetch(new URL('metrics', admin))).text();
      const total = Number(/^mediacast_token_wait_seconds_total\{[^}]*\} (\S+)$/m.exec(metrics)?.[1]);
      assert.ok(total > 2.5, `mediacast_token_wait_seconds_total ${total}`);
      const other = await timedGet(`${server.url}seg.ts`, '127.0.0.78');
      assert.ok(other.samples.at(-1)![0] < 1500, `another client took ${other.samples.at(-1)![0].toFixed(0)} ms`);
      const unknown = await runCli(['ctl', '--admin', admin, 'profile', '127.0.0.77', 'slow-5g'], { timeoutMs: 10_000 });
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /"slow-5g" is not a profile \(expected slow-3g, slow-4g/);
      const off = await runCli(['ctl', '--admin', admin, 'profile', '127.0.0.77', 'off'], { timeoutMs: 10_000 });
      assert.equal(off.code, 0, off.stderr);
      const back = await timedGet(`${server.url}seg.ts`, '127.0.0.77');
      assert.ok(back.samples.at(-1)![0] < 1500, `after the profile is off: ${back.samples.at(-1)![0].toFixed(0)} ms`);
      assert.deepEqual((await api(admin, 'GET', 'servers/0/faults')).json, [], 'the profile\'s latency rule went with it');
    } finally {
      await server.stop();
    }
  });
});
