/**
 * The control plane's live dashboard (`GET /dashboard`): one self-contained page (uPlot inlined,
 * nothing fetched from elsewhere) fed by the listener's WebSocket (`/live`, a snapshot about four
 * times a second) that draws, per server,
 * the throughput of all its clients against its limits and the top clients' throughput, with a
 * table of clients (limit in force, bucket level, rendition, path) and controls: a client's or
 * the server's rate, a profile, a schedule or trace. With a token,
 * open it as `/dashboard#token=TOKEN`: the fragment never leaves the browser, and the page sends
 * it as a bearer token.
 */
import { uplotHead, type UplotAssets } from '../charts/uplot-assets.js';

/** Clients drawn one line each; the rest are added up as "others". */
const TOP_CLIENTS = 8;

export function dashboardPage(assets: UplotAssets): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mediacast control</title>
${uplotHead(assets)}
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 20px; color: #222; background: #fff; }
h1 { font-size: 20px; margin: 0 0 8px; } h2 { font-size: 16px; margin: 24px 0 6px; }
table { border-collapse: collapse; } th, td { padding: 2px 10px 2px 0; text-align: left; border-bottom: 1px solid #eee; }
input { width: 7em; } .status { color: #666; } .error { color: #b00; }
</style>
</head>
<body>
<h1>mediacast control</h1>
<div class="status" id="status">connecting</div>
<div>server <select id="server"></select>
 limit <input id="server-rate" placeholder="4Mbit"> <button id="set-server">set server rate</button>
 every client on <select id="server-profile"></select> <button id="set-server-profile">apply profile</button> <button id="clear-server-profile">profile off</button></div>
<div>schedule for <input id="schedule-target" value="clients" title="server, clients (each from its first request) or a client address"> 
 <textarea id="schedule" rows="1" cols="40" placeholder="0s:4Mbit,30s:1Mbit,60s~4Mbit, or a trace (mahimahi, time_s Mbit/s, Sabre JSON)"></textarea>
 <button id="set-schedule">apply schedule</button> <button id="clear-schedule">stop</button></div>
<h2>Throughput and the limits</h2>
<div id="aggregate"></div>
<h2>Top clients</h2>
<div id="clients"></div>
<h2>Clients</h2>
<table id="table"><thead><tr><th>client</th><th>responses</th><th>last 1 s</th><th>last 10 s</th><th>limit</th><th>bucket</th><th>rendition</th><th>path</th><th>own limit</th><th></th></tr></thead><tbody></tbody></table>
<script>${assets.script}</script>
<script>const TOP_CLIENTS = ${TOP_CLIENTS};${DASHBOARD_SCRIPT}</script>
</body>
</html>
`;
}

const DASHBOARD_SCRIPT = `
(() => {
'use strict';
const token = new URLSearchParams(location.hash.slice(1)).get('token');
const headers = token ? { authorization: 'Bearer ' + token } : {};
const api = (path, options = {}) => fetch(path, { ...options, headers: { ...headers, 'content-type': 'application/json' } }).then(async (r) => {
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.status);
  return body;
});
const $ = (id) => document.getElementById(id);
const status = (text, error) => { $('status').textContent = text; $('status').className = error ? 'error' : 'status'; };
const mbit = (bytes) => (bytes * 8) / 1e6;
const kb = (bytes) => (bytes / 1000).toFixed(1) + ' kB';
const CELLS = 9;
let profiles = [];
// A select of the named profiles ('' takes one off).
const profileSelect = () => {
  const select = document.createElement('select');
  select.append(new Option('(none)', ''), ...profiles.map((p) => new Option(p.name + ': ' + (p.rate / 1000) + ' kB/s, ' + p.latencyMs + ' ms', p.name)));
  return select;
};
const KEEP = 240;
const width = () => Math.max(320, Math.min(1100, document.body.clientWidth - 20));
const hue = (i, n) => 'hsl(' + Math.round((360 * i) / Math.max(1, n)) + ', 65%, 45%)';
let server = 0;
const series = { t: [], total: [], serverLimit: [], clientLimit: [] };
const perClient = new Map();
let aggregate = null;
let clientsChart = null;
let drawnNames = '';
const started = performance.now();

function drawAggregate() {
  const data = [series.t, series.total, series.serverLimit, series.clientLimit];
  if (aggregate === null) {
    aggregate = new uPlot({ width: width(), height: 260, scales: { x: { time: false } }, axes: [{ label: 'seconds' }, { label: 'Mbit/s' }],
      series: [{ label: 's' }, { label: 'all clients', stroke: '#2471a3' }, { label: 'server limit', stroke: '#000', dash: [6, 4] }, { label: 'client limit', stroke: '#888', dash: [2, 4] }] }, data, $('aggregate'));
  } else aggregate.setData(data);
}

function drawClients(names) {
  const data = [series.t, ...names.map((name) => perClient.get(name) ?? [])];
  const key = names.join(',');
  if (clientsChart === null || key !== drawnNames) {
    clientsChart?.destroy();
    clientsChart = new uPlot({ width: width(), height: 260, scales: { x: { time: false } }, axes: [{ label: 'seconds' }, { label: 'Mbit/s' }],
      series: [{ label: 's' }, ...names.map((name, i) => ({ label: name, stroke: hue(i, names.length), points: { show: false } }))] }, data, $('clients'));
    drawnNames = key;
  } else clientsChart.setData(data);
}

// Rows are kept per client and their cells updated in place, so a rate being typed survives the updates.
const rows = new Map();
function renderTable(clients) {
  const body = $('table').tBodies[0];
  const seen = new Set();
  clients.forEach((client, index) => {
    seen.add(client.client);
    let row = rows.get(client.client);
    if (!row) {
      row = document.createElement('tr');
      for (let i = 0; i < CELLS; i++) row.append(document.createElement('td'));
      const controls = document.createElement('td');
      const input = document.createElement('input'); input.placeholder = '60kB';
      const set = document.createElement('button'); set.textContent = 'set';
      const path = '/servers/' + server + '/clients/' + encodeURIComponent(client.client) + '/rate';
      set.onclick = () => api(path, { method: 'PUT', body: JSON.stringify({ rate: input.value }) }).catch((e) => status(e.message, true));
      const clear = document.createElement('button'); clear.textContent = 'clear';
      clear.onclick = () => api(path, { method: 'DELETE' }).catch((e) => status(e.message, true));
      const profile = profileSelect();
      const apply = document.createElement('button'); apply.textContent = 'profile';
      const profilePath = '/servers/' + server + '/clients/' + encodeURIComponent(client.client) + '/profile';
      apply.onclick = () => api(profilePath, profile.value ? { method: 'PUT', body: JSON.stringify({ profile: profile.value }) } : { method: 'DELETE' }).catch((e) => status(e.message, true));
      controls.append(input, set, clear, profile, apply);
      row.append(controls);
      rows.set(client.client, row);
    }
    const rendition = client.rendition ? client.rendition.label + ' (' + (client.rendition.bandwidth / 1000).toFixed(0) + ' kbit/s)' : '-';
    const cells = [client.client, String(client.responses), mbit(client.rate1s).toFixed(3) + ' Mbit/s', mbit(client.rate10s).toFixed(3) + ' Mbit/s',
      client.inForce.rate ? mbit(client.inForce.rate).toFixed(3) + ' Mbit/s' : 'none', client.bucket === null ? '-' : kb(client.bucket) + ' / ' + kb(client.inForce.burst),
      rendition, client.path ?? '-', client.limit ? mbit(client.limit.rate).toFixed(3) + ' Mbit/s' : '-'];
    cells.forEach((text, i) => { if (row.cells[i].textContent !== text) row.cells[i].textContent = text; });
    // Moved only when the ranking changed (moving a row would take the focus from its input).
    if (body.rows[index] !== row) body.insertBefore(row, body.rows[index] ?? null);
  });
  for (const [name, row] of rows) if (!seen.has(name)) { row.remove(); rows.delete(name); }
}

function render(snapshot) {
  try {
    const servers = snapshot.servers;
    const select = $('server');
    if (select.options.length !== servers.length) {
      select.replaceChildren(...servers.map((s) => { const o = document.createElement('option'); o.value = s.id; o.textContent = s.id + ': ' + s.address; return o; }));
      select.value = String(server);
    }
    const info = servers[server];
    if (!info || !info.shaped) { status('server ' + server + ' is not shaped: nothing to show', true); return; }
    const listing = snapshot.clients[server];
    if (!listing) { status('server ' + server + ' shapes per connection: it has no clients to show', true); return; }
    const clients = listing.clients;
    const now = (performance.now() - started) / 1000;
    series.t.push(now);
    series.total.push(mbit(listing.totalRate1s));
    series.serverLimit.push(info.limits.server.rate ? mbit(info.limits.server.rate) : null);
    series.clientLimit.push(info.limits.client.rate ? mbit(info.limits.client.rate) : null);
    const ranked = [...clients].sort((a, b) => b.rate1s - a.rate1s);
    const top = ranked.slice(0, TOP_CLIENTS).map((c) => c.client);
    const others = ranked.slice(TOP_CLIENTS).reduce((sum, c) => sum + c.rate1s, 0) + listing.othersRate1s;
    const byName = new Map(clients.map((c) => [c.client, c]));
    for (const c of clients) if (!perClient.has(c.client)) perClient.set(c.client, series.t.slice(0, -1).map(() => null));
    for (const [name, values] of perClient) {
      if (name === 'others') continue;
      values.push(mbit(byName.get(name)?.rate1s ?? 0));
      // A client gone quiet for the whole window is forgotten.
      if (!byName.has(name) && values.every((v) => !v)) perClient.delete(name);
    }
    if (!perClient.has('others')) perClient.set('others', series.t.slice(0, -1).map(() => null));
    perClient.get('others').push(mbit(others));
    if (series.t.length > KEEP) { for (const list of [series.t, series.total, series.serverLimit, series.clientLimit, ...perClient.values()]) list.shift(); }
    drawAggregate();
    drawClients(ranked.length > TOP_CLIENTS ? [...top, 'others'] : top);
    renderTable(ranked);
    status(listing.count + ' clients' + (listing.count > clients.length ? ' (the ' + clients.length + ' fastest listed)' : '') + ', updated ' + new Date().toLocaleTimeString(), false);
  } catch (error) {
    status('the dashboard: ' + error.message, true);
  }
}

// Snapshots are pushed about four times a second; with a token, it is the first message sent.
function connect() {
  const live = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/live');
  live.onopen = () => { if (token) live.send(token); status('connected', false); };
  live.onmessage = (event) => render(JSON.parse(event.data));
  live.onclose = (event) => { status('the live feed closed' + (event.reason ? ': ' + event.reason : '') + '; reconnecting', true); setTimeout(connect, 1000); };
}

$('server').onchange = (e) => { server = Number(e.target.value); perClient.clear(); for (const row of rows.values()) row.remove(); rows.clear(); for (const list of Object.values(series)) list.length = 0; };
$('set-server').onclick = () => api('/servers/' + server + '/rate', { method: 'PUT', body: JSON.stringify({ rate: $('server-rate').value }) }).catch((e) => status(e.message, true));
window.addEventListener('resize', () => { aggregate?.setSize({ width: width(), height: 260 }); clientsChart?.setSize({ width: width(), height: 260 }); });
// For a test (or a console) to see what is drawn.
window.mediacastDashboard = { series, perClient };
const schedulePath = () => {
  const target = $('schedule-target').value.trim();
  return '/servers/' + server + (target === 'server' ? '/schedule' : target === 'clients' ? '/clients/schedule' : '/clients/' + encodeURIComponent(target) + '/schedule');
};
$('set-schedule').onclick = () => api(schedulePath(), { method: 'PUT', body: JSON.stringify({ schedule: $('schedule').value, loop: true }) }).catch((e) => status(e.message, true));
$('clear-schedule').onclick = () => api(schedulePath(), { method: 'DELETE' }).catch((e) => status(e.message, true));
$('set-server-profile').onclick = () => api('/servers/' + server + '/profile', { method: 'PUT', body: JSON.stringify({ profile: $('server-profile').value }) }).catch((e) => status(e.message, true));
$('clear-server-profile').onclick = () => api('/servers/' + server + '/profile', { method: 'DELETE' }).catch((e) => status(e.message, true));
api('/profiles').then((list) => {
  profiles = list;
  $('server-profile').replaceChildren(...profileSelect().options);
  $('server-profile').remove(0);
}).catch((e) => status(e.message, true)).finally(connect);
})();
`;
