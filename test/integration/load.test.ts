/**
 * `mediacast load` against this server and the demo media: simulated players settle on the rung
 * the per-IP limit allows, stall below the lowest rung, play DASH and fMP4, follow a live window;
 * `--source` players are distinct clients; the JSON report and --fail-on. Every run is bounded by
 * its --duration.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { launchChromium, nonBlankShare } from '../helpers/browser.js';
import { DEMO_MEDIA, runCli, startCli, type ServerProcess } from '../helpers/server-process.js';

const SHARED_FMP4 = fileURLToPath(new URL('../../../../shared/media/hls-fmp4', import.meta.url));

interface Report {
  url: string;
  summary: Record<string, unknown> & {
    players: number;
    stalls: number;
    renditionShares: Array<{ label: string; share: number }>;
    startup: { p50: number; neverStarted: number };
  };
  players: Array<{ id: number; source: string | null; failure: string | null; sessions: Array<Record<string, unknown> & { segments: number; stalls: unknown[] }> }>;
}

describe('mediacast load', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mediacast-load-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const load = async (args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string; report: Report }> => {
    const json = join(dir, `report-${Math.random().toString(36).slice(2)}.json`);
    const result = await runCli(['load', ...args, '--json', json, '--threads', '1'], { timeoutMs });
    // The file is created empty before the run: a report has content only when the run finished.
    const text = readFileSync(json, 'utf8');
    assert.ok(text.length > 0, `no report (exit ${result.code}): ${result.stderr}`);
    return { ...result, report: JSON.parse(text) as Report };
  };

  test('20 players limited between two rungs settle on the lower one with no stalls; --source players are distinct clients', async () => {
    const log = join(dir, 'access.log');
    // 125 kB/s per client (1 Mbit/s): enough to go up to 620 kbit/s (needs 620400 / 0.7 = 886
    // kbit/s) and stay, not to go up to 1390 kbit/s (1986 kbit/s); a small burst.
    const server: ServerProcess = await startCli(['--path', DEMO_MEDIA, '--workers', '1', '--shape', '100MB,125kB,100MB,16kB', '-l', log]);
    try {
      const { code, stdout, report } = await load([`${server.url}master.m3u8`, '--players', '20', '--duration', '14s', '--source', '127.0.0.2-127.0.0.21'], 40_000);
      assert.equal(code, 0, stdout);
      assert.match(stdout, /startup p50 \/ p95/);
      assert.equal(report.summary.players, 20);
      assert.equal(report.summary.stalls, 0, JSON.stringify(report.players.map((p) => p.sessions.map((s) => s.stalls))));
      const [low, middle, high] = report.summary.renditionShares;
      assert.equal(high!.share, 0, 'never on the rung the limit cannot carry');
      assert.ok(middle!.share > 0.6, `360p share ${middle!.share} (240p ${low!.share})`);
      assert.ok(report.players.every((player) => player.failure === null));
    } finally {
      assert.equal(await server.stop(), 0);
    }
    const clients = new Set(readFileSync(log, 'utf8').trim().split('\n').map((line) => line.split(' ')[0]));
    assert.equal(clients.size, 20, [...clients].join(' '));
  });

  test('a higher limit (the server restarted) moves the steady rung up; the HTML report renders in Chromium; P.1203 input per session', async (t) => {
    const html = join(dir, 'report.html');
    const p1203 = join(dir, 'p1203.jsonl');
    // 400 kB/s (3.2 Mbit/s) per client: 1390 kbit/s needs 1986 to go up and 1464 to stay.
    const server = await startCli(['--path', DEMO_MEDIA, '--workers', '1', '--shape', '100MB,400kB,100MB,16kB']);
    let report: Report;
    try {
      const run = await load([`${server.url}master.m3u8`, '--players', '6', '--duration', '10s', '--source', '127.0.0.40-127.0.0.45', '--html', html, '--p1203', p1203, '--limit', '400kB'], 30_000);
      assert.equal(run.code, 0, run.stderr);
      report = run.report;
    } finally {
      assert.equal(await server.stop(), 0);
    }
    const [low, middle, high] = report.summary.renditionShares;
    // At 125 kB/s (the first test) 360p carries most of the time; here 540p does.
    assert.ok(high!.share > 0.3 && high!.share > low!.share, `540p ${high!.share}, 360p ${middle!.share}, 240p ${low!.share}`);
    const inputs = readFileSync(p1203, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { I13: { segments: Array<{ codec: string; resolution: string; bitrate: number }> }; I23: { stalling: number[][] }; mediacast: { player: number } });
    // One per session that played a second or more: every player's first one at least.
    assert.ok(inputs.length >= 6 && inputs.length <= (report.summary.sessions as number), `${inputs.length} P.1203 lines, ${String(report.summary.sessions)} sessions`);
    assert.deepEqual(new Set(inputs.map((input) => input.mediacast.player)).size, 6);
    assert.ok(inputs.every((input) => input.I13.segments.length > 0 && input.I23.stalling[0]![0] === 0));
    assert.ok(inputs.some((input) => input.I13.segments.some((segment) => segment.resolution === '960x540' && segment.codec === 'h264' && segment.bitrate > 500)));
    const page = readFileSync(html, 'utf8');
    assert.doesNotMatch(page, /<script[^>]+src=|<link[^>]+href=/, 'self-contained');
    const browser = await launchChromium();
    if (browser === null) return t.skip('no Chromium installed: the report was written but not opened');
    try {
      const tab = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const problems: string[] = [];
      tab.on('console', (message) => void (message.type() === 'error' && problems.push(message.text())));
      tab.on('pageerror', (error) => problems.push(String(error)));
      const pageUrl = pathToFileURL(html).href;
      tab.on('request', (request) => void (request.url() === pageUrl || problems.push(`fetched ${request.url()}`)));
      await tab.goto(pageUrl);
      // Page code as strings: the test is compiled without the DOM's types.
      await tab.waitForFunction("document.querySelectorAll('.chart canvas').length === 4", undefined, { timeout: 10_000 });
      // Every chart drew something: pixels that are not transparent.
      const inked = (await tab.evaluate(`[...document.querySelectorAll('.chart canvas')].map((canvas) => {
        const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let drawn = 0;
        for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) drawn++;
        return drawn;
      })`)) as number[];
      assert.ok(inked.every((drawn) => drawn > 500), `drawn pixels per chart: ${inked.join(', ')}`);
      // And each chart has data to draw, not only its axes: some series with a value above 0.
      const withData = (await tab.evaluate('window.mediacastCharts.map((chart) => chart.data.slice(1).some((series) => series.some((v) => v > 0)))')) as boolean[];
      assert.deepEqual(withData, [true, true, true, true]);
      const share = nonBlankShare(await tab.screenshot({ fullPage: true }));
      assert.ok(share > 0.02, `non-background share of the screenshot: ${share}`);
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
    }
  });

  test('a limit below the lowest rung stalls; --fail-on turns that into exit 1; every documented field is in the report', async () => {
    const log = join(dir, 'cmcd.log');
    const csv = join(dir, 'sessions.csv');
    const server = await startCli(['--path', DEMO_MEDIA, '--workers', '1', '--shape', '100MB,25kB,100MB,8kB', '-l', log]);
    try {
      const { code, stderr, report } = await load(
        [`${server.url}master.m3u8`, '--players', '3', '--duration', '8s', '--source', '127.0.0.30-127.0.0.32', '--fail-on', 'stalls>0', '--cmcd', 'query', '--csv', csv],
        30_000,
      );
      // CMCD keys let the access log tell sessions apart: one session id per player here.
      const lines = readFileSync(log, 'utf8').trim().split('\n');
      const sids = new Set(lines.map((line) => /sid%3D%22([0-9a-f-]+)%22/.exec(line)?.[1]).filter(Boolean));
      assert.equal(sids.size, report.summary.sessions as unknown as number, lines.slice(0, 3).join('\n'));
      assert.ok(lines.some((line) => /\.ts\?CMCD=.*br%3D290.*ot%3Dv/.test(line)), lines.join('\n'));
      assert.ok(lines.some((line) => /\.m3u8\?CMCD=.*ot%3Dm/.test(line)));
      const rows = readFileSync(csv, 'utf8').trim().split('\n');
      assert.equal(rows[0], 'player,source,session,startup_ms,stalls,stall_ms,switches,played_s,average_bitrate,rebuffer_ratio,bytes,segments,errors,retries,completed');
      assert.equal(rows.length - 1, report.summary.sessions as unknown as number);
      assert.ok(report.summary.stalls > 0, JSON.stringify(report.summary));
      assert.equal(code, 1);
      assert.match(stderr, /--fail-on stalls>0 holds/);
      for (const field of ['players', 'sessions', 'failedPlayers', 'startup', 'stalls', 'stalledSessions', 'stallSeconds', 'rebufferRatio', 'averageBitrate', 'switchesPerMinute', 'renditionShares', 'throughput', 'bytes', 'errors', 'retries']) {
        assert.ok(field in report.summary, `summary.${field}`);
      }
      for (const field of ['id', 'source', 'renditions', 'audio', 'sessions', 'folded', 'failure']) assert.ok(field in report.players[0]!, `player.${field}`);
      const session = report.players[0]!.sessions[0]!;
      for (const field of ['startedAt', 'endedAt', 'initialRendition', 'startupMs', 'stalls', 'stallCount', 'stallMs', 'switches', 'switchCount', 'playedSeconds', 'secondsPerRendition', 'averageBitrate', 'rebufferRatio', 'bytes', 'segments', 'errors', 'retries', 'completed']) {
        assert.ok(field in session, `session.${field}`);
      }
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });

  test('DASH (SegmentTemplate, audio beside video) and HLS fMP4 play', async () => {
    const log = join(dir, 'dash.log');
    const server = await startCli(['--path', DEMO_MEDIA, '--workers', '1', '-l', log]);
    try {
      const dash = await load([`${server.url}dash/manifest.mpd`, '--players', '2', '--duration', '4s'], 20_000);
      assert.equal(dash.code, 0, dash.stderr);
      assert.ok(dash.report.players.every((p) => p.failure === null && p.sessions[0]!.segments > 0), JSON.stringify(dash.report.players));
      assert.equal(dash.report.summary.startup.neverStarted, 0);
    } finally {
      await server.stop();
    }
    // Video and audio, each with its initialization segment.
    const paths = readFileSync(log, 'utf8').split('\n').map((line) => / "GET (\S+) /.exec(line)?.[1]).filter(Boolean);
    for (const wanted of [/init-stream0\.m4s$/, /chunk-stream0-\d+\.m4s$/, /init-stream2\.m4s$/, /chunk-stream2-\d+\.m4s$/]) {
      assert.ok(paths.some((path) => wanted.test(path!)), `${wanted} in ${paths.join(' ')}`);
    }
    // The fMP4 sample lives beside the project (../shared/media), not in it.
    if (!existsSync(SHARED_FMP4)) return;
    const fmp4 = await startCli(['--path', SHARED_FMP4, '--workers', '1']);
    try {
      const run = await load([`${fmp4.url}master.m3u8`, '--players', '2', '--duration', '4s'], 20_000);
      assert.equal(run.code, 0, run.stderr);
      assert.ok(run.report.players.every((p) => p.failure === null && p.sessions[0]!.segments > 0), JSON.stringify(run.report.players));
    } finally {
      await fmp4.stop();
    }
  });

  test('a live playlist: the window is followed as it slides, from near the live edge', async () => {
    // A live origin: the demo's 2 s segments, a 4-segment window advancing every 2 s.
    const started = Date.now();
    const segment = readFileSync(join(DEMO_MEDIA, 'v0', 'seg_000.ts'));
    const fetched: string[] = [];
    let reloads = 0;
    const origin = createServer((req, res) => {
      const sequence = Math.floor((Date.now() - started) / 2000) + 10;
      if (req.url === '/live.m3u8') {
        reloads++;
        const lines = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-TARGETDURATION:2', `#EXT-X-MEDIA-SEQUENCE:${sequence}`];
        for (let n = sequence; n < sequence + 4; n++) lines.push('#EXTINF:2.0,', `seg-${n}.ts`);
        return void res.writeHead(200, { 'Content-Type': 'application/vnd.apple.mpegurl' }).end(`${lines.join('\n')}\n`);
      }
      fetched.push(req.url!);
      res.writeHead(200, { 'Content-Type': 'video/mp2t' }).end(segment);
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    try {
      const { code, stderr, report } = await load([`http://127.0.0.1:${(origin.address() as AddressInfo).port}/live.m3u8`, '--players', '1', '--duration', '9s'], 25_000);
      assert.equal(code, 0, stderr);
      const numbers = fetched.map((url) => Number(/seg-(\d+)\.ts/.exec(url)![1]));
      assert.ok(numbers.length >= 5, `segments fetched: ${fetched.join(' ')}`);
      assert.deepEqual(numbers, [...numbers].sort((a, b) => a - b), 'in stream order');
      assert.ok(new Set(numbers).size === numbers.length, 'each once');
      assert.ok(numbers.at(-1)! - numbers[0]! >= 3, 'the window moved on and was followed');
      assert.ok(reloads >= 3, `${reloads} playlist loads`);
      assert.equal(report.players[0]!.failure, null);
    } finally {
      await new Promise((resolve) => origin.close(resolve));
    }
  });

  test('bad options name the option and exit 2', async () => {
    const kept = join(dir, 'earlier.html');
    writeFileSync(kept, 'an earlier report');
    for (const [args, message] of [
      [['load', 'ftp://x/'], /only http and https URLs/],
      [['load', 'http://127.0.0.1:1/x.m3u8', '--players', '0'], /--players: "0" is not a whole number from 1/],
      [['load', 'http://127.0.0.1:1/x.m3u8', '--fail-on', 'stalls=0'], /--fail-on: "stalls=0" is not a condition/],
      [['load', 'http://127.0.0.1:1/x.m3u8', '--source', '10.0.0.1-10.0.0.0'], /--source: .* ends before it starts/],
      [['load', 'http://127.0.0.1:1/x.m3u8', '--limit', '150kB'], /--limit is drawn in the HTML report: give --html FILE too/],
      [['load', 'http://127.0.0.1:1/x.m3u8', '--html', kept, '--limit', '0'], /--limit: expected a rate above 0/],
      [['load', 'http://127.0.0.1:1/x.m3u8', '--json', join(dir, 'same'), '--csv', join(dir, 'same')], /--csv and --json: both name/],
    ] as const) {
      const { code, stderr } = await runCli([...args], { timeoutMs: 10_000 });
      assert.equal(code, 2, stderr);
      assert.match(stderr, message);
    }
    // A bad option leaves an existing report file as it was.
    assert.equal(readFileSync(kept, 'utf8'), 'an earlier report');
  });
});
