/**
 * The pure parts of the player simulator: hls.js's bandwidth estimate and rendition rule, the
 * buffer-based rule, the buffer model, manifests, and the option parsers.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { BandwidthEstimator, chooseRendition, DEFAULT_ABR } from '../../src/load/abr.js';
import { loadDash } from '../../src/load/dash-manifest.js';
import { loadHls } from '../../src/load/hls-manifest.js';
import { failedConditions, parseAbr, parseBuffer, parseDuration, parseFailOn, parseSourceRange } from '../../src/load/load-options.js';
import { summarize } from '../../src/load/load-summary.js';
import type { PlayerRecord, SessionRecord } from '../../src/load/player.js';
import { PlaybackBuffer } from '../../src/load/playback-buffer.js';
import type { Rendition, RenditionInfo } from '../../src/load/presentation.js';

const rung = (bandwidth: number, label: string): RenditionInfo => ({ bandwidth, label, codecs: null, resolution: null, frameRate: null });
const DEMO = fileURLToPath(new URL('../../../src/demo-media/', import.meta.url));
const ladder = [290_400, 620_400, 1_390_400].map((bandwidth): Rendition => ({ bandwidth, label: String(bandwidth), codecs: null, resolution: null, frameRate: null, init: null, segments: [], playlistUrl: null }));

test('the estimate: 500 kbit/s before any sample, then the lower of the fast and slow EWMAs, as hls.js', () => {
  const estimator = new BandwidthEstimator(DEFAULT_ABR);
  assert.equal(estimator.estimate, 500_000);
  // 1 s downloads at 8 Mbit/s: both averages converge on it (zero-start corrected).
  estimator.sample(1000, 1_000_000);
  assert.ok(Math.abs(estimator.estimate - 8_000_000) < 1, String(estimator.estimate));
  // A slow sample pulls the fast average down more than the slow one: the estimate is the fast one.
  estimator.sample(1000, 100_000);
  const fastAlpha = Math.exp(Math.log(0.5) / 3);
  const expectedFast = (8_000_000 * (1 - fastAlpha) * fastAlpha + 800_000 * (1 - fastAlpha)) / (1 - fastAlpha ** 2);
  assert.ok(Math.abs(estimator.estimate - expectedFast) < 1, `${estimator.estimate} vs ${expectedFast}`);
  // Very short downloads count as 50 ms (hls.js minDelayMs).
  const quick = new BandwidthEstimator(DEFAULT_ABR);
  quick.sample(1, 50_000);
  assert.ok(Math.abs(quick.estimate - 8_000_000) < 1);
});

test('hls.js rule: 0.95 of the estimate to stay or go down, 0.7 to go up; the buffer rule maps the level', () => {
  assert.equal(chooseRendition(ladder, 0, 500_000, 0, DEFAULT_ABR), 0, 'the default estimate starts on the lowest rung');
  assert.equal(chooseRendition(ladder, 0, 800_000, 0, DEFAULT_ABR), 0, 'up to 620k needs 620400 / 0.7 = 886 kbit/s');
  assert.equal(chooseRendition(ladder, 0, 900_000, 0, DEFAULT_ABR), 1);
  assert.equal(chooseRendition(ladder, 1, 660_000, 0, DEFAULT_ABR), 1, 'staying needs 620400 / 0.95 = 653 kbit/s');
  assert.equal(chooseRendition(ladder, 1, 640_000, 0, DEFAULT_ABR), 0);
  assert.equal(chooseRendition(ladder, 2, 1_470_000, 0, DEFAULT_ABR), 2);
  const buffer = { ...DEFAULT_ABR, rule: 'buffer' as const };
  assert.equal(chooseRendition(ladder, 2, 1e9, 4, buffer), 0, 'inside the reservoir: lowest');
  assert.equal(chooseRendition(ladder, 0, 0, 10, buffer), 1);
  assert.equal(chooseRendition(ladder, 0, 0, 15, buffer), 2, 'past reservoir + cushion: highest');
});

test('the buffer: startup after 2 s buffered, a stall when it runs dry, resume after 2 s, the end is no stall', () => {
  const buffer = new PlaybackBuffer({ startup: 2, target: 30, resume: 2 }, 0);
  buffer.add(1, 500);
  assert.equal(buffer.state, 'starting');
  buffer.add(2, 1000);
  assert.equal(buffer.startupMs, 1000);
  assert.equal(buffer.level(2000), 2);
  // 3 s buffered at t=1 s: dry at t=4 s; the next segment at t=6 s (2 s of media) resumes it.
  assert.equal(buffer.state, 'playing');
  buffer.add(2, 6000);
  assert.deepEqual(buffer.stalls, [{ at: 4000, ms: 2000, position: 3 }], 'frozen at 3 s of media');
  assert.equal(buffer.state, 'playing');
  buffer.finish(6000);
  assert.equal(buffer.msUntilEmpty(6000), 2000);
  assert.equal(buffer.level(9000), 0);
  assert.equal(buffer.state, 'ended');
  assert.equal(buffer.stalls.length, 1);
  assert.equal(buffer.played(9000), 5);
  // A run cut mid-stall still counts the stall, up to the cut.
  const cut = new PlaybackBuffer({ startup: 2, target: 30, resume: 2 }, 0);
  cut.add(2, 0);
  cut.close(5000);
  assert.deepEqual(cut.stalls, [{ at: 2000, ms: 3000, position: 2 }]);
});

test('manifests: the demo HLS ladder and DASH MPD as presentations, lowest rung first', async () => {
  const master = readFileSync(`${DEMO}master.m3u8`, 'utf8');
  const hls = await loadHls('http://h/master.m3u8', master, async (url) => readFileSync(`${DEMO}${new URL(url).pathname.slice(1)}`, 'utf8'));
  assert.deepEqual(hls.renditions.map((r) => r.bandwidth), [290_400, 620_400, 1_390_400]);
  assert.equal(hls.live, false);
  assert.equal(hls.renditions[0]!.segments.length, 6);
  assert.equal(hls.renditions[0]!.segments[0]!.url, 'http://h/v0/seg_000.ts');
  assert.deepEqual([hls.renditions[0]!.codecs, hls.renditions[0]!.resolution], ['avc1.4d4015,mp4a.40.2', { width: 426, height: 240 }]);
  const dash = loadDash('http://h/dash/manifest.mpd', readFileSync(`${DEMO}dash/manifest.mpd`, 'utf8'));
  assert.ok(dash.renditions.length >= 2);
  assert.ok(dash.renditions[0]!.bandwidth <= dash.renditions[1]!.bandwidth);
  assert.match(dash.renditions[0]!.init?.url ?? '', /^http:\/\/h\/dash\/init-stream\d\.m4s$/);
  assert.ok(dash.audio !== null && dash.audio.segments.length > 0);
  assert.equal(dash.audio.resolution, null);
  assert.match(dash.renditions[0]!.codecs ?? '', /^avc1\./);
});

test('options: durations, source ranges, ABR and buffer parameters, --fail-on; errors name the option', () => {
  assert.equal(parseDuration('500ms', 'x'), 500);
  assert.equal(parseDuration('2m', 'x'), 120_000);
  assert.equal(parseDuration('3', 'x'), 3000);
  assert.throws(() => parseDuration('soon', '--duration'), /^Error: --duration: "soon" is not a duration/);
  assert.deepEqual(parseSourceRange('127.0.0.254-127.0.1.1', 's'), ['127.0.0.254', '127.0.0.255', '127.0.1.0', '127.0.1.1']);
  assert.throws(() => parseSourceRange('127.0.0.9-127.0.0.2', '--source'), /ends before it starts/);
  assert.throws(() => parseSourceRange('::1', '--source'), /not an IPv4 address range/);
  assert.equal(parseAbr('throughput:fast=2,up=0.8', 'a').fastHalfLife, 2);
  assert.equal(parseAbr('buffer:reservoir=3', 'a').rule, 'buffer');
  assert.throws(() => parseAbr('bola', '--abr'), /"bola" is not an ABR rule/);
  assert.throws(() => parseAbr('buffer:fast=1', '--abr'), /unknown parameter "fast" for buffer/);
  assert.deepEqual(parseBuffer('startup=4s,target=20', 'b'), { startup: 4, target: 20, resume: 2 });
  assert.throws(() => parseBuffer('startup=40', '--buffer'), /startup is above target/);
  const conditions = parseFailOn('stalls>0,startup.p95>2s', '--fail-on');
  const summary = summarize([], []);
  assert.deepEqual(failedConditions(conditions, summary), []);
  assert.deepEqual(failedConditions(conditions, { ...summary, stalls: 1, startup: { ...summary.startup, p95: 2500 } }).map((c) => c.text), ['stalls>0', 'startup.p95>2s']);
  assert.throws(() => parseFailOn('stals>0', '--fail-on'), /unknown figure "stals"/);
});

test('the summary: time-weighted bitrate, stalls over full and folded sessions, cut sessions not "never started"', () => {
  const session = (over: Partial<SessionRecord>): SessionRecord => ({
    startedAt: 0, endedAt: 10_000, initialRendition: 0, startupMs: 500, stalls: [], stallCount: 0, stallMs: 0, switches: [], switchCount: 0, playedSeconds: 10, secondsPerRendition: [10, 0],
    averageBitrate: 100_000, rebufferRatio: 0, bytes: 1000, segments: 5, errors: 0, retries: 0, completed: true, ...over,
  });
  const player: PlayerRecord = {
    id: 0,
    source: null,
    renditions: [rung(100_000, 'low'), rung(300_000, 'high')],
    audio: null,
    sessions: [
      session({}),
      session({ secondsPerRendition: [0, 30], playedSeconds: 30, stallCount: 2, stallMs: 4000, switchCount: 1 }),
      // Cut by the run's end before its first frame: not a viewer who never saw one.
      session({ startupMs: null, playedSeconds: 0, secondsPerRendition: [0, 0], segments: 0, completed: false }),
    ],
    folded: { sessions: 2, neverStarted: 1, stalledSessions: 1, stallCount: 3, stallMs: 1000, switchCount: 0, playedSeconds: 20, secondsPerRendition: [20, 0], bytes: 10, segments: 4, errors: 1, retries: 1 },
    failure: null,
  };
  const summary = summarize([player], []);
  assert.equal(summary.sessions, 5);
  assert.equal(summary.stalls, 5);
  assert.equal(summary.stalledSessions, 2);
  assert.equal(summary.startup.neverStarted, 1, 'the folded one only');
  // (10 s + 20 s) at 100k and 30 s at 300k, over 60 s.
  assert.equal(summary.averageBitrate, 200_000);
  assert.equal(summary.rebufferRatio, 5000 / (60_000 + 5000));
  assert.deepEqual(summary.renditionShares.map((r) => r.share), [0.5, 0.5]);
  assert.equal(summary.errors, 1);
});
