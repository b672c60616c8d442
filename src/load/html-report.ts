/**
 * `--html FILE`: a self-contained report of a load run: the summary table, and charts drawn by
 * uPlot (inlined, so the file opens anywhere, offline): bitrate over time per player, rendition
 * shares over time, players stalled, throughput next to the shaped limit, and the first stalls.
 */
import { uplotHead, type UplotAssets } from '../charts/uplot-assets.js';
import { escapeHtml } from '../http/html.js';
import type { PlayerRecord } from './player.js';
import { reportSeries } from './report-series.js';
import type { TimelineData } from './run-timeline.js';

export interface ReportInput {
  readonly url: string;
  readonly summaryRows: ReadonlyArray<readonly [string, string]>;
  /** Stalls in all (the records list the first ones). */
  readonly stalls: number;
  readonly players: readonly PlayerRecord[];
  readonly timeline: TimelineData;
  /** The per-viewer limit the server shapes to (bytes/s), drawn on the throughput chart; or null. */
  readonly limit: number | null;
  readonly startedAt: Date;
  readonly assets: UplotAssets;
}

/** Stalls listed in the table (the chart counts them all). */
const LISTED_STALLS = 100;

interface ListedStall {
  readonly player: number;
  readonly session: number;
  readonly at: number;
  readonly ms: number;
  readonly position: number;
}

/** The first `limit` stalls by time, without sorting them all. */
function firstStalls(players: readonly PlayerRecord[], limit: number): ListedStall[] {
  const kept: ListedStall[] = [];
  for (const player of players) {
    player.sessions.forEach((session, index) => {
      for (const stall of session.stalls) {
        const at = session.startedAt + stall.at;
        if (kept.length === limit && at >= kept[limit - 1]!.at) continue;
        let i = kept.length;
        while (i > 0 && kept[i - 1]!.at > at) i--;
        kept.splice(i, 0, { player: player.id, session: index, at, ms: stall.ms, position: stall.position });
        if (kept.length > limit) kept.pop();
      }
    });
  }
  return kept;
}

/** JSON inside a script element: nothing in it may close the element. */
const scriptJson = (value: unknown): string => JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028|\u2029/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);

export function htmlReport(input: ReportInput): string {
  const series = reportSeries(input.players, input.timeline, input.limit);
  const stalls = firstStalls(input.players, LISTED_STALLS);
  const rows = input.summaryRows.map(([name, value]) => `<tr><th>${escapeHtml(name)}</th><td>${escapeHtml(value)}</td></tr>`).join('\n');
  const stallRows = stalls
    .map((stall) => `<tr><td>${stall.player}</td><td>${stall.session}</td><td>${(stall.at / 1000).toFixed(1)} s</td><td>${(stall.ms / 1000).toFixed(2)} s</td><td>${stall.position.toFixed(1)} s</td></tr>`)
    .join('\n');
  const charted = series.bitrate.length;
  const { assets } = input;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mediacast load: ${escapeHtml(input.url)}</title>
${uplotHead(assets)}
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 20px; color: #222; background: #fff; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 28px 0 6px; }
.meta { color: #666; margin-bottom: 16px; word-break: break-all; }
table { border-collapse: collapse; } th, td { padding: 2px 12px 2px 0; text-align: left; vertical-align: top; }
th { font-weight: 600; } .stalls td, .stalls th { border-bottom: 1px solid #eee; }
.note { color: #666; font-size: 13px; }
</style>
</head>
<body>
<h1>mediacast load</h1>
<div class="meta">${escapeHtml(input.url)}, started ${escapeHtml(input.startedAt.toISOString())}</div>
<table class="summary">
${rows}
</table>
<h2>Bitrate over time per player</h2>
<p class="note">Declared bandwidth of the rendition each player was fetching or playing${input.players.length > charted ? `, for the first ${charted} of ${input.players.length} players` : ''}.</p>
<div id="bitrate" class="chart"></div>
<h2>Rendition shares over time</h2>
<p class="note">Share of the players fetching each rendition (stacked, lowest rendition at the bottom).</p>
<div id="shares" class="chart"></div>
<h2>Stall timeline</h2>
<p class="note">Players stalled and players active, averaged over each second; ${input.stalls === 0 ? 'no stalls' : `${input.stalls} stalls, ${stalls.length < input.stalls ? `the first ${stalls.length}` : 'all'} listed below`}.</p>
<div id="stalled" class="chart"></div>
<h2>Throughput and the shaped limit</h2>
<p class="note">Received per active player per second, and the throughput of the segments that finished in that second (mean, lowest)${series.limit === null ? '; give <code>--limit RATE</code> to draw the per-viewer limit' : `; the limit: ${series.limit.toFixed(3)} Mbit/s per viewer`}.</p>
<div id="throughput" class="chart"></div>
${stalls.length > 0 ? `<h2 id="stall-list">Stalls</h2>\n<table class="stalls"><tr><th>player</th><th>session</th><th>at (run time)</th><th>lasted</th><th>media position</th></tr>\n${stallRows}\n</table>` : ''}
<script>${assets.script}</script>
<script type="application/json" id="series">${scriptJson(series)}</script>
<script>${CHARTS_SCRIPT}</script>
</body>
</html>
`;
}

/** Runs in the page: reads the series and draws the four charts. */
const CHARTS_SCRIPT = `
(() => {
'use strict';
const S = JSON.parse(document.getElementById('series').textContent);
// Opaque fills, so stacked areas do not mix.
const hue = (i, n, lightness = 45) => 'hsl(' + Math.round((360 * i) / Math.max(1, n)) + ', 65%, ' + lightness + '%)';
const width = () => Math.max(320, Math.min(1100, document.body.clientWidth - 20));
const stepped = uPlot.paths.stepped({ align: 1 });
const charts = [];
function chart(id, yLabel, series, data, legend, yRange) {
  const opts = {
    width: width(), height: 280,
    legend: { show: legend },
    scales: { x: { time: false }, y: yRange ? { range: yRange } : {} },
    axes: [{ label: 'seconds' }, { label: yLabel }],
    series: [{ label: 's' }].concat(series),
  };
  charts.push(new uPlot(opts, data, document.getElementById(id)));
}
chart('bitrate', 'Mbit/s',
  S.bitrate.map((p, i) => ({ label: 'player ' + p.player, stroke: hue(i, S.bitrate.length), paths: stepped, points: { show: false } })),
  [S.t].concat(S.bitrate.map((p) => p.values)), S.bitrate.length <= 12);
const cumulative = S.shares.map((_, r) => S.t.map((_, i) => 100 * S.shares.slice(0, r + 1).reduce((sum, s) => sum + s.values[i], 0)));
const highestFirst = S.shares.map((_, r) => S.shares.length - 1 - r);
chart('shares', '% of players',
  highestFirst.map((r) => ({ label: S.shares[r].label, stroke: hue(r, S.shares.length), fill: hue(r, S.shares.length, 75), paths: stepped, points: { show: false } })),
  [S.t].concat(highestFirst.map((r) => cumulative[r])), true, [0, 100]);
chart('stalled', 'players',
  [{ label: 'stalled', stroke: '#c0392b', fill: 'rgba(192, 57, 43, 0.3)', paths: stepped, points: { show: false } },
   { label: 'active', stroke: '#888', paths: stepped, points: { show: false } }],
  [S.t, S.stalled, S.active], true);
const limit = S.limit === null ? [] : [{ label: 'limit per viewer', stroke: '#000', dash: [6, 4], points: { show: false } }];
chart('throughput', 'Mbit/s',
  [{ label: 'received per active player', stroke: '#2471a3', points: { show: false } },
   { label: 'segment mean', stroke: '#27ae60', points: { show: false } },
   { label: 'segment lowest', stroke: '#e67e22', points: { show: false } }].concat(limit),
  [S.t, S.perPlayer, S.segmentMean, S.segmentMin].concat(S.limit === null ? [] : [S.t.map(() => S.limit)]), true);
// For a test (or a console) to see what each chart holds.
window.mediacastCharts = charts;
window.addEventListener('resize', () => charts.forEach((c) => c.setSize({ width: width(), height: 280 })));
})();
`;
