/**
 * The reports of `mediacast load` from records: the per-second series behind the HTML charts, the
 * timeline merge, and the P.1203 mode 0 input.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readUplotAssets } from '../../src/charts/uplot-assets.js';
import { htmlReport } from '../../src/load/html-report.js';
import { p1203Codec, p1203Input, p1203Lines } from '../../src/load/p1203-input.js';
import type { PlayerRecord, SessionRecord } from '../../src/load/player.js';
import { renditionIntervals, reportSeries } from '../../src/load/report-series.js';
import { mergeTimelines, RunTimeline } from '../../src/load/run-timeline.js';

const ladder: PlayerRecord['renditions'] = [
  { bandwidth: 1_000_000, label: '240p', codecs: 'avc1.4d4015,mp4a.40.2', resolution: { width: 426, height: 240 }, frameRate: 25 },
  { bandwidth: 2_000_000, label: '360p', codecs: 'avc1.4d401e,mp4a.40.2', resolution: { width: 640, height: 360 }, frameRate: null },
];

const session = (over: Partial<SessionRecord>): SessionRecord => ({
  startedAt: 0, endedAt: 4000, initialRendition: 0, startupMs: 500, stalls: [], stallCount: 0, stallMs: 0, switches: [], switchCount: 0,
  playedSeconds: 3, secondsPerRendition: [3, 0], averageBitrate: 1_000_000, rebufferRatio: 0, bytes: 1000, segments: 2, errors: 0, retries: 0,
  completed: false, ...over,
});
const player = (id: number, sessions: SessionRecord[]): PlayerRecord => ({ id, source: null, renditions: ladder, audio: null, sessions, folded: null, failure: null });

test('a session as rendition intervals: the initial one, then one per switch, to its end', () => {
  const s = session({ startedAt: 1000, endedAt: 5000, switches: [{ at: 1500, from: 0, to: 1 }, { at: 3000, from: 1, to: 0 }], switchCount: 2 });
  assert.deepEqual(renditionIntervals(s), [[1000, 2500, 0], [2500, 4000, 1], [4000, 5000, 0]]);
});

test('a cut switch list stops the intervals at its last switch (the rest is unknown)', () => {
  const s = session({ endedAt: 9000, switches: [{ at: 1000, from: 0, to: 1 }], switchCount: 5 });
  assert.deepEqual(renditionIntervals(s), [[0, 1000, 0]]);
});

test('the timeline: time-weighted players active, stalled and per rung, per second; a short last second', () => {
  const timeline = new RunTimeline(2500);
  timeline.active(0, 1);
  timeline.rung(0, 0, 1);
  timeline.active(500, 1);
  timeline.rung(500, 0, 1);
  // A 300 ms stall still shows: 0.3 player-seconds in its second.
  timeline.stalled(1200, 1500);
  timeline.rung(2000, 0, -1);
  timeline.rung(2000, 1, 1);
  const data = timeline.data();
  assert.equal(data.lastBucketMs, 500);
  assert.deepEqual(data.active, [1.5, 2, 2]);
  assert.deepEqual(data.stalled.map((n) => Math.round(n * 1000) / 1000), [0, 0.3, 0]);
  assert.deepEqual(data.rungs, [[1.5, 2, 1], [0, 0, 1]]);
});

test('series per second: bitrate per player, shares of the players fetching, per-player throughput and the limit', () => {
  const timeline = new RunTimeline(4000);
  timeline.bytes(100, 250_000);
  timeline.bytes(1200, 500_000);
  timeline.throughput(1900, 4_000_000);
  timeline.throughput(1950, 2_000_000);
  timeline.active(0, 1);
  timeline.rung(0, 0, 1);
  timeline.active(1000, 1);
  timeline.rung(1000, 0, 1);
  timeline.rung(2000, 0, -1);
  timeline.rung(2000, 1, 1);
  timeline.rung(3000, 0, -1);
  timeline.active(3000, -1);
  const players = [
    player(0, [session({ switches: [{ at: 2000, from: 0, to: 1 }], switchCount: 1 })]),
    player(1, [session({ startedAt: 1000, endedAt: 3000 })]),
  ];
  const series = reportSeries(players, timeline.data(), 125_000);
  assert.deepEqual(series.t, [0.5, 1.5, 2.5, 3.5]);
  assert.deepEqual(series.bitrate.map((p) => p.values), [[1, 1, 2, 2], [null, 1, 1, null]]);
  assert.deepEqual(series.active, [1, 2, 2, 1]);
  assert.deepEqual(series.shares.map((s) => s.values), [[1, 1, 0.5, 0], [0, 0, 0.5, 1]]);
  // 250 kB in the first second for one player: 2 Mbit/s; 500 kB over two players: 2 each.
  assert.deepEqual(series.perPlayer, [2, 2, 0, 0]);
  assert.deepEqual(series.segmentMean, [null, 3, null, null]);
  assert.deepEqual(series.segmentMin, [null, 2, null, null]);
  assert.equal(series.limit, 1);
});

test('timelines from threads add up; the lowest throughput ignores seconds where a thread had none', () => {
  const a = new RunTimeline(2000);
  const b = new RunTimeline(2000);
  a.bytes(0, 10);
  b.bytes(500, 5);
  a.throughput(1500, 300);
  b.throughput(1600, 100);
  b.throughput(200, 50);
  a.rung(0, 1, 1);
  // A callback after the deadline lands in the last second.
  a.bytes(9000, 1);
  const merged = mergeTimelines([a.data(), b.data()]);
  assert.deepEqual(merged.bytes, [15, 1]);
  assert.deepEqual(merged.throughputCount, [1, 2]);
  assert.deepEqual(merged.throughputMin, [50, 100]);
  assert.deepEqual(merged.throughputSum, [50, 400]);
  assert.deepEqual(merged.rungs, [[0, 0], [1, 1]]);
});

test('the HTML report: hostile URLs and labels stay text, the stall note counts every stall, uPlot licence inlined', () => {
  const hostile = '</script><script>alert(1)</script>';
  const players = [{ ...player(0, [session({ stalls: [{ at: 100, ms: 300, position: 1 }], stallCount: 1 })]), renditions: [{ ...ladder[0]!, label: hostile }] }];
  const page = htmlReport({
    url: `http://h/${hostile}`,
    summaryRows: [['x', '<img src=x onerror=alert(1)>']],
    stalls: 1,
    players,
    timeline: new RunTimeline(1000).data(),
    limit: null,
    startedAt: new Date(0),
    assets: readUplotAssets(),
  });
  assert.doesNotMatch(page, /<script>alert|<img src=x/);
  assert.match(page, /1 stalls, all listed below/);
  assert.match(page, /id="stall-list"/);
  assert.match(page, /MIT License[\s\S]*Leon Sorokin/);
  assert.equal(page.match(/<script\b/g)!.length, 3, 'uPlot, the series, the charts');
});

test('P.1203 mode 0 input: measured segment bitrates, codec names, initial loading and stalls at their media position', () => {
  assert.equal(p1203Codec('avc1.4d401e,mp4a.40.2', 'video'), 'h264');
  assert.equal(p1203Codec('mp4a.40.2,hvc1.1.6.L93.B0', 'video'), 'h265');
  assert.equal(p1203Codec('avc1.4d401e,mp4a.40.5', 'audio'), 'heaac');
  assert.equal(p1203Codec('av01.0.05M.08', 'video'), 'av01.0.05M.08', 'unknown: left for the user to see');
  assert.equal(p1203Codec(null, 'video'), null);
  assert.equal(p1203Codec('mp4a.6B', 'audio'), 'mp2');
  assert.equal(p1203Codec('mp4a.69', 'audio'), 'mp2');
  const played = session({
    startupMs: 1500,
    stalls: [{ at: 5000, ms: 2500, position: 4 }],
    playedMedia: [
      { rendition: 0, start: 0, duration: 2, bytes: 250_000 },
      { rendition: 1, start: 2, duration: 2, bytes: 500_000 },
    ],
  });
  const scored = p1203Input(player(3, [played]), played, 7)!;
  assert.equal(scored.scorable, false, 'the 360p rendition declares no frame rate');
  const input = scored.input as Record<string, { segments?: Array<Record<string, unknown>>; stalling?: unknown; streamId?: number }>;
  assert.deepEqual(input.I13!.segments, [
    { bitrate: 1000, codec: 'h264', duration: 2, fps: 25, resolution: '426x240', start: 0 },
    { bitrate: 2000, codec: 'h264', duration: 2, resolution: '640x360', start: 2 },
  ]);
  assert.deepEqual(input.I11!.segments, []);
  assert.deepEqual(input.I23!.stalling, [[0, 1.5], [4, 2.5]]);
  assert.equal(input.I13!.streamId, 7);
  assert.deepEqual(input.IGen, { device: 'pc', displaySize: '1920x1080', viewingDistance: '150cm' });
  // Sessions that never started, or played under a second, have nothing to score; lines say whose.
  const short = session({ playedMedia: [{ rendition: 0, start: 0, duration: 0.5, bytes: 1 }] });
  const { lines, unscorable } = p1203Lines(player(3, [played, session({ startupMs: null, playedMedia: [] }), short]));
  assert.equal(lines.length, 1);
  assert.equal(unscorable, 1);
  assert.deepEqual(JSON.parse(lines[0]!).mediacast, { player: 3, source: null, session: 0 });
  // DASH audio beside the video: I11 with the audio codec.
  const dash: PlayerRecord = { ...player(4, []), audio: { bandwidth: 64_000, label: 'audio', codecs: 'mp4a.40.2', resolution: null, frameRate: null } };
  const withAudio = session({ playedMedia: [{ rendition: 0, start: 0, duration: 2, bytes: 250_000 }, { rendition: -1, start: 0, duration: 2, bytes: 16_000 }] });
  const audioInput = p1203Input(dash, withAudio, 1)!.input as { I11: { segments: unknown[] } };
  assert.deepEqual(audioInput.I11.segments, [{ bitrate: 64, codec: 'aaclc', duration: 2, start: 0 }]);
});
