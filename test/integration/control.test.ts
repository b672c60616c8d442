/**
 * The control plane (`--admin`, `mediacast ctl`) against a running server over real sockets: off
 * by default, the token enforced, a client's own rate reaching its download in flight within
 * 200 ms while another client keeps the server's, and cleared again; a server-wide rate; bad
 * commands.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request, type ClientRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { WebSocket } from 'undici';
import { launchChromium } from '../helpers/browser.js';
import { adminUrl, DEMO_MEDIA, runCli, startCli } from '../helpers/server-process.js';

/** A download that timestamps every chunk, for rates over chosen windows. */
function timedDownload(url: string, localAddress: string): { bytesBetween(fromMs: number, toMs: number): number; stop(): void } {
  const samples: Array<[number, number]> = [];
  let total = 0;
  const req: ClientRequest = request(url, { localAddress, agent: false }, (res) => {
    res.on('data', (chunk: Buffer) => {
      total += chunk.length;
      samples.push([performance.now(), total]);
    });
  });
  req.on('error', () => {});
  req.end();
  const at = (ms: number): number => {
    let bytes = 0;
    for (const [t, cumulative] of samples) {
      if (t > ms) break;
      bytes = cumulative;
    }
    return bytes;
  };
  return { bytesBetween: (fromMs, toMs) => at(toMs) - at(fromMs), stop: () => req.destroy() };
}

/** The status of a GET with these headers (node:http: fetch will not send another Host). */
function statusOf(url: URL, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    request(url, { headers, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// Each test has its own server and client addresses: they run side by side (the schedules and
// the browser test apart, below).
describe('control plane', { concurrency: true }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mediacast-control-'));
    writeFileSync(join(dir, 'big.bin'), Buffer.alloc(16 * 1024 * 1024, 7));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('off by default; --admin beyond loopback needs a token; --admin-token needs --admin', async () => {
    const server = await startCli(['--path', dir, '--workers', '1', '--shape', '-,100kB']);
    try {
      assert.doesNotMatch(server.stdout(), /control plane/);
    } finally {
      await server.stop();
    }
    const open = await runCli(['--path', dir, '--admin', 'tcp:0', '--shape', '-,100kB'], { timeoutMs: 10_000 });
    assert.equal(open.code, 2);
    assert.match(open.stderr, /--admin: .* is reachable beyond this machine: give --admin-token too/);
    const lone = await runCli(['--path', dir, '--admin-token', 'abcdefgh12'], { timeoutMs: 10_000 });
    assert.equal(lone.code, 2);
    assert.match(lone.stderr, /--admin-token: is given without --admin/);
  });

  test('a client limit reaches its download in flight within 200 ms, leaves another client alone, and is cleared; the token is enforced', async () => {
    const token = 'test-token-0123';
    // 100 kB/s per client, a small burst; the admin listener on a free loopback port.
    const server = await startCli(['--path', dir, '--workers', '2', '--shape', '-,100kB,-,10kB', '--admin', 'tcp:0:interface=127.0.0.1', '--admin-token', token]);
    const admin = adminUrl(server);
    const a = timedDownload(`${server.url}big.bin`, '127.0.0.60');
    const b = timedDownload(`${server.url}big.bin`, '127.0.0.61');
    try {
      const refused = await runCli(['ctl', '--admin', admin, 'rate', '127.0.0.60', '20kB'], { timeoutMs: 10_000 });
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /401: expected Authorization: Bearer TOKEN/);
      const wrong = await runCli(['ctl', '--admin', admin, '--token', 'not-the-token', 'servers'], { timeoutMs: 10_000 });
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /401/);
      await sleep(1500);
      const put = await fetch(new URL('servers/0/clients/127.0.0.60/rate', admin), { method: 'PUT', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify({ rate: '20kB', burst: 0 }) });
      const changedAt = performance.now();
      assert.equal(put.status, 200, await put.text());
      await sleep(1300);
      // Had the change come later than 200 ms, A's second would hold more than 26 kB.
      const slowed = a.bytesBetween(changedAt + 200, changedAt + 1200);
      const untouched = b.bytesBetween(changedAt + 200, changedAt + 1200);
      assert.ok(slowed >= 14_000 && slowed <= 26_000, `A got ${slowed} B in the second after its 20 kB/s limit`);
      assert.ok(untouched >= 85_000 && untouched <= 115_000, `B got ${untouched} B in that second`);
      const listed = await runCli(['ctl', '--admin', admin, '--token', token, 'clients'], { timeoutMs: 10_000 });
      assert.equal(listed.code, 0, listed.stderr);
      const clients = (JSON.parse(listed.stdout) as { clients: Array<{ client: string; responses: number; limit: { rate: number } | null }> }).clients;
      assert.deepEqual(clients.find((c) => c.client === '127.0.0.60')?.limit?.rate, 20_000);
      assert.equal(clients.find((c) => c.client === '127.0.0.61')?.limit, null);
      const cleared = await runCli(['ctl', '--admin', admin, '--token', token, 'clear', '127.0.0.60'], { timeoutMs: 10_000 });
      const clearedAt = performance.now();
      assert.equal(cleared.code, 0, cleared.stderr);
      await sleep(1300);
      const restored = a.bytesBetween(clearedAt + 200, clearedAt + 1200);
      assert.ok(restored >= 80_000 && restored <= 115_000, `A got ${restored} B in the second after its limit was cleared`);
      const again = await runCli(['ctl', '--admin', admin, '--token', token, 'clear', '127.0.0.60'], { timeoutMs: 10_000 });
      assert.equal(again.code, 1);
      assert.match(again.stderr, /404: 127\.0\.0\.60 has no limit of its own/);
    } finally {
      a.stop();
      b.stop();
      await server.stop();
    }
  });

  test('the live feed: a WebSocket pushing a snapshot about 4 times a second, only after the token; other origins refused', async () => {
    const token = 'live-token-012';
    const server = await startCli(['--path', dir, '--workers', '1', '--shape', '-,100kB', '--admin', 'tcp:0:interface=127.0.0.1', '--admin-token', token]);
    const admin = adminUrl(server);
    const live = admin.replace(/^http/, 'ws') + 'live';
    const listen = (send: string | null, headers: Record<string, string> = {}): Promise<{ messages: string[]; closed: number | null }> =>
      new Promise((resolve) => {
        const socket = new WebSocket(live, { headers });
        const messages: string[] = [];
        let closed: number | null = null;
        socket.onopen = () => {
          if (send !== null) socket.send(send);
        };
        socket.onmessage = (event) => messages.push(String(event.data));
        socket.onerror = () => {};
        socket.onclose = (event) => {
          closed = event.code;
        };
        setTimeout(() => {
          socket.close();
          resolve({ messages, closed });
        }, 2100);
      });
    try {
      const [good, silent, wrong, foreign] = await Promise.all([listen(token), listen(null), listen('not-it'), listen(token, { origin: 'http://attacker.example' })]);
      // One at once, then every 250 ms: about 9 in 2.1 s; a loaded machine may drop a few.
      assert.ok(good.messages.length >= 4 && good.messages.length <= 12, `${good.messages.length} snapshots in 2.1 s`);
      const snapshot = JSON.parse(good.messages.at(-1)!) as { servers: Array<{ limits: { client: { rate: number } } }>; clients: Record<string, { clients: unknown[] }> };
      assert.equal(snapshot.servers[0]!.limits.client.rate, 100_000);
      assert.ok(Array.isArray(snapshot.clients['0']?.clients));
      assert.deepEqual(silent.messages, [], 'nothing before the token');
      assert.deepEqual([wrong.messages, wrong.closed], [[], 4401]);
      assert.deepEqual(foreign.messages, [], 'another origin gets no feed');
      const upgrade = (origin: string) =>
        new Promise<number>((resolve, reject) => {
          request(live.replace(/^ws/, 'http'), { agent: false, headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', origin } })
            .on('response', (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            })
            .on('upgrade', (_res, socket) => {
              socket.destroy();
              resolve(101);
            })
            .on('error', reject)
            .end();
        });
      assert.equal(await upgrade('http://attacker.example'), 403);
      assert.equal(await upgrade(new URL(admin).origin), 101);
      // Far more WebSockets than the 32 connections allowed, one after another: the cap counts them down as they close.
      for (let i = 0; i < 40; i++) {
        await new Promise<void>((resolve) => {
          const socket = new WebSocket(live);
          socket.onopen = () => socket.close();
          socket.onerror = () => {};
          socket.onclose = () => resolve();
        });
      }
      assert.equal((await fetch(new URL('servers', admin), { headers: { authorization: `Bearer ${token}` } })).status, 200);
    } finally {
      await server.stop();
    }
  });

  test('a server-wide rate set at runtime; bad commands exit 2 or say what the server refused', async () => {
    const server = await startCli(['--path', dir, '--workers', '1', '--shape', '-,100kB,-,10kB', '--admin', 'tcp:0:interface=127.0.0.1']);
    const admin = adminUrl(server);
    const a = timedDownload(`${server.url}big.bin`, '127.0.0.62');
    try {
      await sleep(800);
      const set = await runCli(['ctl', '--admin', admin, 'rate', 'server', '30kB,0'], { timeoutMs: 10_000 });
      const setAt = performance.now();
      assert.equal(set.code, 0, set.stderr);
      assert.match(set.stdout, /"rate": 30000/);
      await sleep(1300);
      const got = a.bytesBetween(setAt + 200, setAt + 1200);
      assert.ok(got >= 20_000 && got <= 40_000, `got ${got} B in the second after a 30 kB/s server limit`);
      // No token: a request naming another host (a rebound name) is refused.
      assert.equal(await statusOf(new URL('servers', admin), { host: 'attacker.example' }), 403);
      assert.equal(await statusOf(new URL('servers', admin), { origin: 'http://attacker.example' }), 403);
      assert.equal(await statusOf(new URL('servers', admin), {}), 200);
            for (const [args, code, message] of [
        [['ctl', '--admin', admin, 'rate', '127.0.0.62'], 2, /rate: expected TARGET RATE\[,BURST\]/],
        [['ctl', '--admin', admin, 'fly'], 2, /"fly" is not a command/],
        [['ctl', '--admin', admin, 'rate', 'example.com', '10kB'], 1, /400: "example.com" is neither an IP address/],
        // ipaddr's lenient forms would name another client (127.1 is 127.0.0.1).
        [['ctl', '--admin', admin, 'rate', '127.1', '10kB'], 1, /400: "127.1" is neither an IP address/],
        [['ctl', '--admin', admin, 'rate', '127.0.0.62', '10kbits'], 1, /400: rate: /],
        [['ctl', '--admin', admin, '--server', '3', 'clients'], 1, /404: no server 3/],
        [['ctl', '--admin', 'http://127.0.0.1:1', 'servers'], 1, /cannot reach the control plane/],
      ] as const) {
        const result = await runCli([...args], { timeoutMs: 10_000 });
        assert.equal(result.code, code, `${args.join(' ')}: ${result.stderr}`);
        assert.match(result.stderr, message);
      }
    } finally {
      a.stop();
      await server.stop();
    }
  });

  test('a pause holds a connected client back for its time, then it goes on; the listing shows what each client got', async () => {
    const server = await startCli(['--path', dir, '--workers', '1', '--shape', '-,100kB,-,4kB', '--admin', 'tcp:0:interface=127.0.0.1']);
    const admin = adminUrl(server);
    const a = timedDownload(`${server.url}big.bin`, '127.0.0.90');
    try {
      await sleep(2500);
      const listed = await runCli(['ctl', '--admin', admin, 'clients'], { timeoutMs: 10_000 });
      const client = (JSON.parse(listed.stdout) as { clients: Array<{ client: string; rate1s: number; rate10s: number }> }).clients.find((c) => c.client === '127.0.0.90');
      assert.ok(client && Math.abs(client.rate1s - 100_000) <= 15_000, `listed ${JSON.stringify(client)}`);
      const paused = await fetch(new URL('servers/0/clients/127.0.0.90/pause', admin), { method: 'POST', body: JSON.stringify({ ms: 1000 }) });
      const pausedAt = performance.now();
      assert.equal(paused.status, 200, await paused.text());
      await sleep(2200);
      // Held from its next chunk on (a chunk is about 10 ms of the rate); this process (running
      // other tests beside) may read a little late: at most 12 kB in 600 ms, against 60 kB unpaused.
      const held = a.bytesBetween(pausedAt + 200, pausedAt + 800);
      const after = a.bytesBetween(pausedAt + 1100, pausedAt + 2100);
      assert.ok(held <= 12_000, `${held} B during the pause`);
      assert.ok(after >= 85_000 && after <= 115_000, `${after} B in the second after it`);
      const absent = await runCli(['ctl', '--admin', admin, 'pause', '127.0.0.99', '1000'], { timeoutMs: 10_000 });
      assert.equal(absent.code, 1);
      assert.match(absent.stderr, /404: 127\.0\.0\.99 is not connected/);
    } finally {
      a.stop();
      await server.stop();
    }
  });

  test('--shape-schedule per-client: each client follows the steps on its own clock, from its first request', async () => {
    const server = await startCli(['--path', dir, '--workers', '1', '--shape', '-,500kB,-,2kB', '--shape-schedule', 'per-client:once:0s:40kB,3s:120kB', '--admin', 'tcp:0:interface=127.0.0.1']);
    const admin = adminUrl(server);
    assert.match(server.stdout(), /each client's limit \(from its first request\) follows per-client:once:0s:40kB,3s:120kB \(steps, \d+ s, once\)/);
    let first: ReturnType<typeof timedDownload> | undefined;
    let second: ReturnType<typeof timedDownload> | undefined;
    try {
      const firstAt = performance.now();
      first = timedDownload(`${server.url}big.bin`, '127.0.0.82');
      await sleep(2000);
      const secondAt = performance.now();
      second = timedDownload(`${server.url}big.bin`, '127.0.0.83');
      await sleep(4800);
      const near = (got: number, expected: number, what: string): void => assert.ok(Math.abs(got - expected) <= expected * 0.15, `${what}: ${got} B, expected ${expected}`);
      near(first.bytesBetween(firstAt + 300, firstAt + 2300), 80_000, 'the first client, its first 2 s');
      near(first.bytesBetween(firstAt + 3300, firstAt + 4300), 120_000, 'the first client, after its 3 s');
      // Meanwhile the first client is past its step: the second is on its own clock.
      near(second.bytesBetween(secondAt + 300, secondAt + 2300), 80_000, 'the second client, its first 2 s');
      near(second.bytesBetween(secondAt + 3300, secondAt + 4300), 120_000, 'the second client, after its 3 s');
      const listed = (await (await fetch(new URL('schedules', admin))).json()) as Array<{ target: string; clock: string; clients: number }>;
      assert.deepEqual(listed.map(({ target, clock, clients }) => [target, clock, clients]), [['clients', 'first-request', 2]]);
      const stopped = await runCli(['ctl', '--admin', admin, 'unschedule', 'clients'], { timeoutMs: 10_000 });
      assert.equal(stopped.code, 0, stopped.stderr);
      const servers = (await (await fetch(new URL('servers/0', admin))).json()) as { limits: { client: { rate: number } } };
      assert.equal(servers.limits.client.rate, 500_000, 'the client limit is back to --shape\'s');
    } finally {
      first?.stop();
      second?.stop();
      await server.stop();
    }
  });

  test('the client listing shows each client\'s path, the rendition it fetches (HLS BANDWIDTH, DASH representation), its limit in force and its bucket', async () => {
    const server = await startCli(['--path', DEMO_MEDIA, '--workers', '2', '--shape', '-,300kB', '--admin', 'tcp:0:interface=127.0.0.1']);
    const admin = adminUrl(server);
    const get = (path: string, localAddress: string): Promise<number> =>
      new Promise((resolve, reject) => {
        request(`${server.url}${path}`, { localAddress, agent: false }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        })
          .on('error', reject)
          .end();
      });
    try {
      // The playlists from one client, the segment from another: what a playlist says is the server's.
      for (const path of ['master.m3u8', 'v1/index.m3u8', 'dash/manifest.mpd']) assert.equal(await get(path, '127.0.0.64'), 200);
      assert.equal(await get('v1/seg_001.ts', '127.0.0.65'), 200);
      assert.equal(await get('dash/chunk-stream1-00003.m4s', '127.0.0.66'), 200);
      type Listed = { client: string; path: string | null; rendition: { bandwidth: number; label: string } | null; inForce: { rate: number }; bucket: number | null; ended: number; tokenWaitSeconds: number };
      let clients: Listed[] = [];
      // The workers report paths a few times a second.
      for (let i = 0; i < 40 && clients.filter((c) => c.rendition !== null).length < 3; i++) {
        await sleep(100);
        clients = ((await (await fetch(new URL('servers/0/clients', admin))).json()) as { clients: Listed[] }).clients;
      }
      const of = (name: string): Listed | undefined => clients.find((client) => client.client === name);
      assert.deepEqual([of('127.0.0.65')?.path, of('127.0.0.65')?.rendition], ['/v1/seg_001.ts', { bandwidth: 620_400, label: '360p' }]);
      assert.equal(of('127.0.0.66')?.path, '/dash/chunk-stream1-00003.m4s');
      assert.deepEqual(of('127.0.0.66')?.rendition, { bandwidth: 700_000, label: '360p' });
      assert.deepEqual([of('127.0.0.64')?.path, of('127.0.0.64')?.rendition], ['/dash/manifest.mpd', null]);
      assert.equal(of('127.0.0.65')?.inForce.rate, 300_000);
      assert.deepEqual([of('127.0.0.64')?.ended, of('127.0.0.65')?.ended], [3, 1], 'responses ended, per client slot');
      assert.ok((of('127.0.0.65')?.tokenWaitSeconds ?? -1) >= 0);
      const bucket = of('127.0.0.65')?.bucket ?? Number.NaN;
      assert.ok(bucket > 0 && bucket <= 300_000, `bucket ${bucket}`);
    } finally {
      await server.stop();
    }
  });

  test('/metrics: Prometheus text that a parser reads, counting responses by class and virtual host, response times, shaped bytes, token waits and the limits; a virtual host\'s limit set at runtime', async () => {
    const token = 'metrics-token-1';
    const server = await startCli(['--path', dir, '--workers', '2', '--shape', '-,2MB', '--admin', 'tcp:0:interface=127.0.0.1', '--admin-token', token, '-v', 'v.local', '--path', dir, '-s', '-,1MB']);
    const admin = adminUrl(server);
    try {
      for (let i = 0; i < 5; i++) assert.equal((await fetch(`${server.url}big.bin`, { headers: { range: 'bytes=0-99999' } })).status, 206);
      assert.equal((await fetch(`${server.url}missing.bin`)).status, 404);
      for (let i = 0; i < 3; i++) assert.equal(await statusOf(new URL('big.bin', server.url), { host: 'v.local', range: 'bytes=0-999' }), 206);
      const auth = { authorization: `Bearer ${token}` };
      const vhostRate = await fetch(new URL('servers/0/vhosts/v.local/rate', admin), { method: 'PUT', headers: auth, body: JSON.stringify({ rate: '300kB', level: 'client' }) });
      assert.equal(vhostRate.status, 200, await vhostRate.text());
      const described = (await (await fetch(new URL('servers/0', admin), { headers: auth })).json()) as { vhosts: Array<{ host: string; limits: { client: { rate: number } } }> };
      assert.equal(described.vhosts[0]?.limits.client.rate, 300_000);
      assert.equal((await fetch(new URL('servers/0/vhosts/nope.local/rate', admin), { method: 'PUT', headers: auth, body: '{"rate": 1}' })).status, 404);
      // Published by the workers a few times a second.
      await sleep(600);
      const response = await fetch(new URL('metrics', admin), { headers: { authorization: `Bearer ${token}` } });
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      const text = await response.text();
      const families = new Map(parsePrometheusTextFormat(text).map((family) => [family.name, family]));
      const byClass = (host: string) =>
        Object.fromEntries(families.get('mediacast_responses_total')!.metrics.filter((m) => m.labels!['host'] === host).map((m) => [m.labels!['class'], Number(m.value)]));
      assert.equal(byClass('')['2xx'], 5);
      assert.equal(byClass('')['4xx'], 1);
      assert.equal(byClass('v.local')['2xx'], 3, 'the virtual host counts its own');
      assert.ok(Number(families.get('mediacast_token_wait_seconds_total')!.metrics[0]!.value) >= 0);
      const vhostLimits = families.get('mediacast_vhost_limit_bytes_per_second')!.metrics.map((m) => [m.labels!['host'], m.labels!['level'], Number(m.value)]);
      assert.deepEqual(vhostLimits, [['v.local', 'server', 0], ['v.local', 'client', 300_000]]);
      const histogram = families.get('mediacast_response_duration_seconds')!;
      assert.equal(histogram.type, 'HISTOGRAM');
      assert.match(text, /^mediacast_response_duration_seconds_bucket\{server="0",address="[^"]+",host="",le="\+Inf"\} 6$/m);
      // The parser keeps a labelled histogram's buckets only: its count from the text itself.
      assert.match(text, /^mediacast_response_duration_seconds_count\{server="0",address="[^"]+",host=""\} 6$/m);
      assert.ok(Number(families.get('mediacast_shaped_bytes_total')!.metrics[0]!.value) >= 500_000);
      assert.ok(Number(families.get('mediacast_response_body_bytes_total')!.metrics[0]!.value) >= 500_000);
      const limits = Object.fromEntries(families.get('mediacast_limit_bytes_per_second')!.metrics.map((m) => [m.labels!['level'], Number(m.value)]));
      assert.deepEqual(limits, { server: 0, client: 2_000_000 });
      assert.equal((await fetch(new URL('metrics', admin))).status, 401, 'the token covers /metrics too');
    } finally {
      await server.stop();
    }
  });
});

// Apart from the others: per-second windows and a browser want the test process to themselves.
describe('control plane schedules and dashboard', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mediacast-dashboard-'));
    writeFileSync(join(dir, 'big.bin'), Buffer.alloc(16 * 1024 * 1024, 7));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('schedules: a step schedule is followed within 5 % per second; a looping mahimahi trace that swings 3:1 every 100 ms gives its mean rate within 5 % over 10 s', async () => {
    const server = await startCli(['--path', dir, '--workers', '1', '--shape', '-,500kB,-,2kB', '--admin', 'tcp:0:interface=127.0.0.1']);
    const admin = adminUrl(server);
    // A one-second trace looped: 100-ms bins of 5 and 15 packets in turn, 150 kB/s on average.
    const lines: number[] = [];
    for (let bin = 0; bin < 10; bin++) {
      const packets = bin % 2 === 0 ? 5 : 15;
      for (let p = 0; p < packets; p++) lines.push(bin * 100 + Math.floor((p * 100) / packets));
    }
    // The period is the last line's time: the last delivery moves to 1000 ms (still 100 in all).
    lines[lines.length - 1] = 1000;
    let stepped: ReturnType<typeof timedDownload> | undefined;
    let traced: ReturnType<typeof timedDownload> | undefined;
    const trace = join(dir, 'trace.down');
    writeFileSync(trace, `${lines.join('\n')}\n`);
    try {
      // Set before the clients come (their limits wait for them), then the downloads start: no
      // bytes at the server's own 500 kB/s sit in socket buffers to blur the first windows.
      const steps = await runCli(['ctl', '--admin', admin, 'schedule', '127.0.0.70', '0s:40kB,2s:80kB,4s:40kB', '--once'], { timeoutMs: 10_000 });
      assert.equal(steps.code, 0, steps.stderr);
      const stepsAt = performance.now();
      stepped = timedDownload(`${server.url}big.bin`, '127.0.0.70');
      const replay = await runCli(['ctl', '--admin', admin, 'schedule', '127.0.0.71', trace], { timeoutMs: 10_000 });
      assert.equal(replay.code, 0, replay.stderr);
      const replayAt = performance.now();
      traced = timedDownload(`${server.url}big.bin`, '127.0.0.71');
      assert.match(replay.stdout, /"format": "mahimahi"/);
      assert.match(replay.stdout, /"meanRate": 150000/);
      await sleep(10_800);
      // stepsAt is a little after the schedule started (the ctl process's exit): windows start 300 ms into each step.
      for (const [from, expected] of [[300, 40_000], [2300, 80_000], [4300, 40_000], [6300, 40_000]] as const) {
        const got = stepped.bytesBetween(stepsAt + from, stepsAt + from + 1000);
        assert.ok(Math.abs(got - expected) <= expected * 0.05, `steps: ${got} B in the second from ${from} ms, expected ${expected}`);
      }
      // Each change reaches a flow one chunk late (the chunk already reserved at the old rate):
      // this trace, changing 10 times a second, comes out a few per cent low.
      const replayed = traced.bytesBetween(replayAt + 500, replayAt + 10_500);
      assert.ok(Math.abs(replayed - 1_500_000) <= 75_000, `trace: ${replayed} B in 10 s, expected 1,500,000`);
      const listed = await runCli(['ctl', '--admin', admin, 'schedules'], { timeoutMs: 10_000 });
      const list = JSON.parse(listed.stdout) as Array<{ target: string; finished: boolean; loop: boolean }>;
      assert.deepEqual(list.map((entry) => [entry.target, entry.loop, entry.finished]), [['127.0.0.70', false, true], ['127.0.0.71', true, false]]);
      const stopped = await runCli(['ctl', '--admin', admin, 'unschedule', '127.0.0.71'], { timeoutMs: 10_000 });
      assert.equal(stopped.code, 0, stopped.stderr);
      const bad = await runCli(['ctl', '--admin', admin, 'schedule', 'server', '5s:1Mbit'], { timeoutMs: 10_000 });
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /400: "5s:1Mbit": the first point is at 0s/);
    } finally {
      stepped?.stop();
      traced?.stop();
      await server.stop();
    }
  });

  test('the dashboard renders in headless Chromium, draws a running download, its graph moves, and its controls set a client\'s rate', async (t) => {
    const token = 'dashboard-token-1';
    const server = await startCli(['--path', dir, '--workers', '1', '--shape', '-,200kB,-,8kB', '--admin', 'tcp:0:interface=127.0.0.1', '--admin-token', token]);
    const admin = adminUrl(server);
    const a = timedDownload(`${server.url}big.bin`, '127.0.0.95');
    const browser = await launchChromium();
    try {
      if (browser === null) return t.skip('no Chromium installed');
      const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
      const problems: string[] = [];
      page.on('console', (message) => void (message.type() === 'error' && problems.push(message.text())));
      page.on('pageerror', (error) => problems.push(String(error)));
      await page.goto(`${new URL('dashboard', admin).href}#token=${token}`);
      // Locators run in Playwright's own isolated world: the page's CSP (no eval) stays in force.
      await page.locator('#aggregate canvas').waitFor({ timeout: 10_000 });
      await page.locator('#clients canvas').waitFor({ timeout: 10_000 });
      const row = page.locator('#table tbody tr', { hasText: '127.0.0.95' });
      await row.waitFor({ timeout: 10_000 });
      // The chart alone (the status line's clock would differ anyway).
      const chart = page.locator('#clients canvas').first();
      const first = await chart.screenshot();
      await sleep(2000);
      const second = await chart.screenshot();
      assert.notDeepEqual(first, second, 'the graph moved between two screenshots');
      const rate = Number(/^([\d.]+) Mbit\/s$/.exec((await row.locator('td').nth(3).textContent()) ?? '')?.[1]);
      assert.ok(rate > 1 && rate < 2, `the client's last 10 s shown as ${rate} Mbit/s (it gets 1.6)`);
      await row.locator('input').fill('20kB');
      await row.locator('button', { hasText: 'set' }).click();
      await page.locator('#table tbody tr', { hasText: '0.160 Mbit/s' }).waitFor({ timeout: 5000 });
      assert.deepEqual(problems, []);
    } finally {
      await browser?.close();
      a.stop();
      await server.stop();
    }
  });
});
