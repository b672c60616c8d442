/**
 * A real player through the server: hls.js in headless Chromium plays the demo ladder (240p, 360p,
 * 540p) from a shaped server; `mediacast ctl rate 127.0.0.1 60kB` makes it switch down, clearing
 * the override makes it switch back up, and the dashboard shows the client's rate and rendition
 * in both phases. Skips without a Chromium. The reaction times are printed for the record.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { launchChromium, nonBlankShare } from '../helpers/browser.js';
import { adminUrl, DEMO_MEDIA, runCli, startCli } from '../helpers/server-process.js';

const RENDITIONS = ['v0', 'v1', 'v2'];
/** The demo's 12 s, played this many times over (a discontinuity between): long enough for both switches. */
const REPEATS = 40;

const PLAYER = `<!doctype html>
<html><head><meta charset="utf-8"><title>player</title></head>
<body>
<video id="video" muted autoplay playsinline width="640"></video>
<script src="hls.min.js"></script>
<script>
const video = document.getElementById('video');
// What the test reads: the level of each fragment requested, and the picture's height shown, with their times.
const state = { loading: [], shown: [], errors: [] };
window.player = state;
// hls.js's own ABR, with a short buffer and its bandwidth averages over fewer seconds (defaults 3 and 9)
// so that a change shows within seconds.
const hls = new Hls({ maxBufferLength: 6, maxMaxBufferLength: 6, startLevel: 0, abrEwmaFastVoD: 1.5, abrEwmaSlowVoD: 4 });
hls.on(Hls.Events.FRAG_LOADING, (_, data) => state.loading.push({ at: performance.now(), level: data.frag.level }));
hls.on(Hls.Events.ERROR, (_, data) => state.errors.push(data.details + (data.fatal ? ' (fatal)' : '')));
video.addEventListener('resize', () => state.shown.push({ at: performance.now(), height: video.videoHeight }));
hls.loadSource('vod/master.m3u8');
hls.attachMedia(video);
video.play().catch((error) => state.errors.push(String(error)));
</script>
</body></html>
`;

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'mediacast-player-'));
  const vod = join(dir, 'vod');
  mkdirSync(vod);
  writeFileSync(join(vod, 'master.m3u8'), masterOf());
  for (const rendition of RENDITIONS) {
    mkdirSync(join(vod, rendition));
    const segments = readdirSync(join(DEMO_MEDIA, rendition)).filter((name) => name.endsWith('.ts')).sort();
    for (const segment of segments) copyFileSync(join(DEMO_MEDIA, rendition, segment), join(vod, rendition, segment));
    const lines = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-TARGETDURATION:2', '#EXT-X-PLAYLIST-TYPE:VOD'];
    for (let i = 0; i < REPEATS; i++) {
      if (i > 0) lines.push('#EXT-X-DISCONTINUITY');
      // A query per repeat: each is another URL to the browser's cache, so every segment is fetched.
      for (const segment of segments) lines.push('#EXTINF:2.000000,', `${segment}?repeat=${i}`);
    }
    writeFileSync(join(vod, rendition, 'index.m3u8'), `${[...lines, '#EXT-X-ENDLIST'].join('\n')}\n`);
  }
  copyFileSync(createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js'), join(dir, 'hls.min.js'));
  writeFileSync(join(dir, 'player.html'), PLAYER);
});
after(() => rmSync(dir, { recursive: true, force: true }));

function masterOf(): string {
  return '#EXTM3U\n#EXT-X-VERSION:3\n' +
    '#EXT-X-STREAM-INF:BANDWIDTH=290400,RESOLUTION=426x240,CODECS="avc1.4d4015,mp4a.40.2"\nv0/index.m3u8\n' +
    '#EXT-X-STREAM-INF:BANDWIDTH=620400,RESOLUTION=640x360,CODECS="avc1.4d401e,mp4a.40.2"\nv1/index.m3u8\n' +
    '#EXT-X-STREAM-INF:BANDWIDTH=1390400,RESOLUTION=960x540,CODECS="avc1.4d401f,mp4a.40.2"\nv2/index.m3u8\n';
}

interface PlayerState {
  loading: Array<{ at: number; level: number }>;
  shown: Array<{ at: number; height: number }>;
  errors: string[];
}

/** Waits (polling the page) until `done` holds for the player's state; the state then. */
async function waitForPlayer(page: Page, done: (state: PlayerState) => boolean, timeoutMs: number, what: string): Promise<PlayerState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = (await page.evaluate('window.player')) as PlayerState;
    if (done(state)) return state;
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms; player: ${JSON.stringify(state)}`);
    await page.waitForTimeout(200);
  }
}

/** The dashboard's row of `client`: its cells' texts. */
async function dashboardRow(page: Page, client: string): Promise<string[]> {
  return page.locator('#table tbody tr', { has: page.locator('td', { hasText: new RegExp(`^${client.replace(/\./g, '\\.')}$`) }) }).locator('td').allTextContents();
}

test('hls.js in Chromium switches down after `ctl rate 127.0.0.1 60kB` and back up after `ctl clear`; the dashboard shows both', async (t) => {
  const browser = await launchChromium();
  if (browser === null) {
    t.skip('no Chromium installed (apt-get install chromium): the player test is skipped');
    return;
  }
  const server = await startCli(['--path', dir, '--workers', '1', '--shape', '-,400kB', '--admin', 'tcp:0:interface=127.0.0.1']);
  const admin = adminUrl(server);
  const ctl = (...words: string[]) => runCli(['ctl', '--admin', admin, ...words], { timeoutMs: 10_000 });
  const shots = process.env['MEDIACAST_SCREENSHOTS'] ?? dir;
  try {
    const player = await browser.newPage();
    await player.goto(`${server.url}player.html`);
    const dashboard = await browser.newPage({ viewport: { width: 1200, height: 1100 } });
    await dashboard.goto(`${admin}dashboard`);
    const now = async (): Promise<number> => (await player.evaluate('performance.now()')) as number;

    // 400 kB/s is 3.2 Mbit/s: the top rung (1.39 Mbit/s) is shown.
    await waitForPlayer(player, (s) => s.shown.some((e) => e.height === 540), 40_000, 'the 540p picture');
    const top = await dashboardRow(dashboard, '127.0.0.1');
    await dashboard.screenshot({ path: join(shots, 'dashboard-1-top.png') });

    /**
     * Runs a ctl command, waits until the player shows `height` (its `level` requested first),
     * and reads the dashboard's row a moment later: the times the player saw, and the row.
     */
    const phase = async (words: string[], level: number, height: number, shot: string) => {
      const at = await now();
      const done = await ctl(...words);
      assert.equal(done.code, 0, done.stderr);
      const state = await waitForPlayer(player, (s) => s.shown.some((e) => e.at > at && e.height === height), 60_000, `${height}p shown after ctl ${words.join(' ')}`);
      const loading = state.loading.find((e) => e.at > at && e.level === level)!;
      const shown = state.shown.find((e) => e.at > at && e.height === height)!;
      await dashboard.waitForTimeout(1500);
      const row = await dashboardRow(dashboard, '127.0.0.1');
      await dashboard.screenshot({ path: join(shots, shot) });
      return { at, state, loading, shown, row };
    };
    // 60 kB/s is 480 kbit/s: only 240p (290 kbit/s) fits.
    const down = await phase(['rate', '127.0.0.1', '60kB'], 0, 240, 'dashboard-2-limited.png');
    const up = await phase(['clear', '127.0.0.1'], 2, 540, 'dashboard-3-cleared.png');
    const [low, high] = [down.row, up.row];
    await player.screenshot({ path: join(shots, 'player.png') });

    // The dashboard's row: client, responses, last 1 s, last 10 s, limit, bucket, rendition, path, own limit.
    assert.match(top[6] ?? '', /^540p/, `before: ${top.join(' | ')}`);
    assert.match(low[6] ?? '', /^240p/, `limited: ${low.join(' | ')}`);
    assert.match(low[8] ?? '', /^0\.480 Mbit\/s$/, `limited: ${low.join(' | ')}`);
    assert.ok(Number.parseFloat(low[3]!) <= 0.6, `limited, the last 10 s: ${low[3]}`);
    assert.match(high[6] ?? '', /^540p/, `cleared: ${high.join(' | ')}`);
    assert.equal(high[8], '-', 'no override after the clear');
    assert.ok(nonBlankShare(await dashboard.screenshot()) > 0.02);
    assert.deepEqual(up.state.errors.filter((e) => e.includes('fatal')), []);
    const seconds = (from: number, to: number) => ((to - from) / 1000).toFixed(1);
    t.diagnostic(
      `down: first 240p fragment requested ${seconds(down.at, down.loading.at)} s, 240p shown ${seconds(down.at, down.shown.at)} s after the ctl rate; ` +
        `up: first 540p fragment requested ${seconds(up.at, up.loading.at)} s, 540p shown ${seconds(up.at, up.shown.at)} s after the ctl clear; ` +
        `fragments requested while limited: ${down.state.loading.filter((e) => e.at > down.at && e.at < down.shown.at).map((e) => e.level).join(',')}; screenshots in ${shots}`,
    );
  } finally {
    await browser.close();
    await server.stop();
  }
});
