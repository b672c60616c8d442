/**
 * The control plane's JSON API over the shapers' shared memory: list servers and their clients,
 * set a server's rate or one client's, clear a client's. Every change is a write to the memory
 * the workers' flows read with each chunk, so it reaches responses already running. Transport
 * free: the admin subsystem feeds it requests.
 *
 *   GET    /servers                               the servers, their limits and flows
 *   GET    /servers/N/clients                     the clients of server N
 *   PUT    /servers/N/rate          {rate, burst}  server N's server-wide limit
 *   PUT    /servers/N/vhosts/H/rate {rate, burst, level}  virtual host H's own limits
 *   PUT    /servers/N/clients/C/rate {rate, burst} client C's own limit
 *   DELETE /servers/N/clients/C/rate              back to the server's client limit
 *   POST   /servers/N/clients/C/pause {ms}         hold a connected client back for ms
 *   GET    /schedules                             the schedules running
 *   GET    /metrics                               Prometheus text format (metrics-text.ts)
 *   PUT    /servers/N/schedule      {schedule, loop}  a schedule for server N's limit
 *   PUT    /servers/N/clients/C/schedule {schedule, loop}  a schedule for client C's own limit
 *   PUT    /servers/N/clients/schedule {schedule, loop}  every client's limit, each from its first request
 *   DELETE /servers/N/schedule, /servers/N/clients/schedule, /servers/N/clients/C/schedule  stop it
 * A schedule's `clock` is "apply" (from now) or "first-request" (from the target's next request).
 *   GET    /profiles                              the named network profiles
 *   PUT    /servers/N/profile {profile}           every client of server N on a profile (rate and latency)
 *   PUT    /servers/N/clients/C/profile {profile} client C on a profile
 *   DELETE /servers/N/profile, /servers/N/clients/C/profile  off again
 *   GET    /servers/N/faults                      the fault rules of server N
 *   POST   /servers/N/faults {path, client, ...}  add one (fault-rules.ts)
 *   DELETE /servers/N/faults, /servers/N/faults/ID  remove all, or one
 * A rate set by hand replaces a schedule of the same target.
 */
import type { ShapeLimits } from '../config/shape-spec.js';
import { parseQuantity } from '../config/rate-units.js';
import { describeListen } from '../config/strport.js';
import { ClientLimitsFull, clearClientLimit, clientLimits, MAX_CLIENT_LIMIT, setClientLimit } from '../shaping/client-limits.js';
import { findSlot, liveClients, overflowFlows } from '../shaping/client-table.js';
import { bucketLevel, costNanos, delay } from '../shaping/gcra.js';
import { kServerActiveFlows, kServerTatNanos, kSlotTatNanos, overrideRateInt32, slotBase } from '../shaping/layout.js';
import type { ClientActivity } from './client-activity.js';
import type { RenditionMap } from './rendition-map.js';
import { hrClock } from '../shaping/server-shaper.js';
import { readLimits, setLimits } from '../shaping/shaper-memory.js';
import { clientName, ClientNameError } from './client-names.js';
import { clientKeyIn, type ControlledServer } from './controlled-server.js';
import { parseSchedule, ScheduleError } from '../config/rate-schedule.js';
import type { ScheduleRunner, ScheduleTarget } from './schedule-runner.js';
import { sampleKey, type ClientRates } from './client-rates.js';
import { metricsText, type MetricsMemory } from './metrics-text.js';
import { FaultBoardFull, type FaultBoard } from './fault-board.js';
import { FaultError, parseFaultSpec } from './fault-rules.js';
import { canonicalClientName } from './client-names.js';
import { NETWORK_PROFILES, networkProfile, UnknownProfileError } from './network-profiles.js';

export type { ControlledServer } from './controlled-server.js';

export interface ControlResponse {
  readonly status: number;
  /** JSON to send; or, with `text`, the answer as it is (/metrics). */
  readonly body: unknown;
  readonly text?: string;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** What the control plane works with: the servers, the schedules running, the sampled rates. */
export interface ControlState {
  readonly servers: readonly ControlledServer[];
  readonly schedules: ScheduleRunner;
  readonly rates: ClientRates;
  readonly metrics: MetricsMemory;
  readonly faults: FaultBoard;
  /** Each client's latest path, and the renditions of the playlists served. */
  readonly activity: ClientActivity;
  readonly renditions: RenditionMap;
  /** Profiles applied, by `server target`, with the client level before a server-wide one. */
  readonly profiles: Map<string, AppliedProfile>;
}

export interface AppliedProfile {
  readonly name: string;
  readonly before: { rate: number; burst: number } | null;
}

export function handleControl(state: ControlState, method: string, path: string, body: string): ControlResponse {
  try {
    const bare = path.split('?')[0]!;
    if (bare === '/metrics') return only(method, 'GET', () => ({ status: 200, body: null, text: metricsText(state.servers, state.metrics) }));
    return { status: 200, body: route(state, method, bare, body) };
  } catch (error) {
    if (error instanceof ApiError) return { status: error.status, body: { error: error.message } };
    if (error instanceof URIError) return { status: 400, body: { error: `${path}: a malformed %-escape` } };
    if (error instanceof ClientNameError || error instanceof RangeError || error instanceof ScheduleError || error instanceof FaultError || error instanceof UnknownProfileError) {
      return { status: 400, body: { error: error.message } };
    }
    if (error instanceof ClientLimitsFull || error instanceof FaultBoardFull) return { status: 409, body: { error: error.message } };
    throw error;
  }
}

function route(state: ControlState, method: string, path: string, body: string): unknown {
  const { servers, schedules } = state;
  const parts = path.split('/').filter(Boolean).map((part) => decodeURIComponent(part));
  // A client named in the path, in its one spelling (`::ffff:10.0.0.1` is 10.0.0.1).
  if (parts[0] === 'servers' && parts[2] === 'clients' && parts.length >= 5) parts[3] = canonicalClientName(parts[3]!);
  if (parts[0] === 'schedules' && parts.length === 1) return only(method, 'GET', () => schedules.list());
  if (parts[0] === 'profiles' && parts.length === 1) return only(method, 'GET', () => NETWORK_PROFILES);
  if (parts[0] !== 'servers') throw new ApiError(404, `no such resource: ${path} (try GET /servers)`);
  if (parts.length === 1) return only(method, 'GET', () => servers.map(describeServer));
  const server = servers[Number(parts[1])];
  if (server === undefined || !/^\d+$/.test(parts[1]!)) throw new ApiError(404, `no server ${parts[1]} (servers are numbered from 0: GET /servers)`);
  if (parts.length === 2) return only(method, 'GET', () => describeServer(server));
  if (parts[2] === 'rate' && parts.length === 3) {
    return only(method, 'PUT', () => {
      const answer = setServerRate(server, body);
      schedules.forget(server.plan.id, 'server');
      return answer;
    });
  }
  if (parts[2] === 'schedule' && parts.length === 3) return schedule(server, state, 'server', method, body);
  if (parts[2] === 'vhosts' && parts.length === 5 && parts[4] === 'rate') return only(method, 'PUT', () => setVhostRate(server, parts[3]!, body));
  if (parts[2] === 'faults') return faults(server, state.faults, method, parts[3], body);
  if (parts[2] === 'profile' && parts.length === 3) return profile(server, state, null, method, body);
  if (parts[2] === 'clients' && parts.length === 5 && parts[4] === 'profile') return profile(server, state, parts[3]!, method, body);
  if (parts[2] === 'clients' && parts.length === 4 && parts[3] === 'schedule') return schedule(server, state, 'clients', method, body);
  if (parts[2] === 'clients' && parts.length === 5 && parts[4] === 'schedule') {
    shapedView(server);
    clientKeyIn(server, parts[3]!);
    return schedule(server, state, { client: parts[3]! }, method, body);
  }
  if (parts[2] === 'clients' && parts.length === 3) return only(method, 'GET', () => listClients(server, state));
  if (parts[2] === 'clients' && parts.length === 5 && parts[4] === 'pause') return only(method, 'POST', () => pauseClient(server, parts[3]!, body));
  if (parts[2] === 'clients' && parts.length === 5 && parts[4] === 'rate') {
    const view = shapedView(server);
    const key = clientKeyIn(server, parts[3]!);
    if (method === 'PUT') {
      const limits = readLimits(view);
      const requested = parseLimitBody(body, limits.client);
      if (requested.rate === 0) throw new ApiError(400, 'a client rate must be above 0 (DELETE the client\'s rate to go back to the server\'s)');
      if (requested.rate > MAX_CLIENT_LIMIT || requested.burst > MAX_CLIENT_LIMIT) throw new ApiError(400, `a client's rate and burst are at most ${MAX_CLIENT_LIMIT}`);
      setClientLimit(view, key, requested);
      schedules.forget(server.plan.id, { client: parts[3]! });
      return { client: parts[3], limit: requested };
    }
    if (method === 'DELETE') {
      schedules.forget(server.plan.id, { client: parts[3]! });
      if (!clearClientLimit(view, key)) throw new ApiError(404, `${parts[3]} has no limit of its own`);
      return { client: parts[3], limit: null };
    }
    throw new ApiError(405, `${method} ${path}: expected PUT or DELETE`);
  }
  throw new ApiError(404, `no such resource: ${path}`);
}

/**
 * Holds a connected client back for `{"ms": N}`: its bucket's TAT moves on by N ms, so its
 * downloads stop (after the chunk each has in hand) and go on afterwards at their rate.
 */
function pauseClient(server: ControlledServer, name: string, body: string): unknown {
  const view = shapedView(server);
  const { ms } = parseJson(body, '{"ms": 2000}') as { ms?: unknown };
  if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 1 || ms > 3_600_000) throw new ApiError(400, 'ms: expected a whole number of milliseconds from 1 to 3600000');
  const line = findSlot(view, clientKeyIn(server, name));
  if (line < 0) throw new ApiError(404, `${name} is not connected (a pause holds a connected client)`);
  const words = new Int32Array(view.buffer);
  const own = Atomics.load(words, overrideRateInt32(line));
  const limits = readLimits(view);
  const [rate, burst] = own > 0 ? [own, Atomics.load(words, overrideRateInt32(line) + 1)] : [limits.client.rate, limits.client.burst];
  if (rate === 0) throw new ApiError(409, `${name} has no rate limit to pause it through (give it one: PUT its rate)`);
  delay(view, slotBase(line) + kSlotTatNanos, BigInt(ms) * 1_000_000n, costNanos(burst, rate), hrClock());
  return { client: name, pausedMs: ms };
}

/** PUT starts a schedule on `target` (replacing one there), DELETE stops it. */
function schedule(server: ControlledServer, state: ControlState, target: ScheduleTarget, method: string, body: string): unknown {
  const schedules = state.schedules;
  shapedView(server, target === 'server');
  const name = typeof target === 'string' ? target : target.client;
  if (method === 'DELETE') {
    if (!schedules.clear(server.plan.id, target)) throw new ApiError(404, `${target === 'server' ? 'the server' : name} has no schedule`);
    return { stopped: name };
  }
  if (method !== 'PUT') throw new ApiError(405, 'expected PUT or DELETE');
  const parsed = parseJson(body, '{"schedule": "0s:4Mbit,30s:1Mbit", "loop": true, "clock": "apply"}') as { schedule?: unknown; loop?: unknown; clock?: unknown };
  if (typeof parsed.schedule !== 'string') throw new ApiError(400, 'schedule: expected the steps or the trace as a string');
  if (parsed.loop !== undefined && typeof parsed.loop !== 'boolean') throw new ApiError(400, 'loop: expected true or false');
  const clock = parsed.clock ?? 'apply';
  if (clock !== 'apply' && clock !== 'first-request') throw new ApiError(400, 'clock: expected "apply" (from now) or "first-request" (from the target\'s next request)');
  const parsedSchedule = parseSchedule(parsed.schedule);
  // A schedule of every client replaces a profile of every client (its rate and its latency).
  const profileKey = `${server.plan.id} server`;
  const profile = state.profiles.get(profileKey);
  if (target === 'clients' && profile !== undefined) {
    const view = shapedView(server);
    setLimits(view, { server: readLimits(view).server, client: profile.before! });
    state.profiles.delete(profileKey);
    state.faults.setProfile(server.plan.id, null, null);
  }
  return schedules.set(server.plan.id, target, parsedSchedule, parsed.loop ?? true, clock);
}

/** GET lists the server's fault rules, POST adds one, DELETE removes one (by id) or all. */
function faults(server: ControlledServer, board: FaultBoard, method: string, id: string | undefined, body: string): unknown {
  const serverId = server.plan.id;
  if (id !== undefined) {
    if (method !== 'DELETE') throw new ApiError(405, 'expected DELETE');
    if (!/^\d+$/.test(id) || !board.remove(serverId, Number(id))) throw new ApiError(404, `no fault rule ${id} on this server (GET its faults; a profile's goes with the profile)`);
    return { removed: Number(id) };
  }
  if (method === 'GET') return board.list(serverId);
  if (method === 'DELETE') return { removed: board.clear(serverId) };
  if (method !== 'POST') throw new ApiError(405, 'expected GET, POST or DELETE');
  const spec = parseFaultSpec(parseJson(body, '{"path": "/v2/*.ts", "status": 503, "share": 0.2}'));
  // A name the workers can match (an address, or id:VALUE), in its one spelling.
  return board.add(serverId, spec.client === null ? spec : { ...spec, client: canonicalClientName(spec.client) });
}

/**
 * A profile's rate and latency on one client (its own limit, and time before each first byte),
 * or on every client of the server (the server's client level); DELETE takes both back.
 */
function profile(server: ControlledServer, state: ControlState, client: string | null, method: string, body: string): unknown {
  const view = shapedView(server, client === null);
  const key = `${server.plan.id} ${client ?? 'server'}`;
  if (method === 'DELETE') {
    const applied = state.profiles.get(key);
    if (applied === undefined) throw new ApiError(404, `${client ?? 'the server'} has no profile`);
    state.profiles.delete(key);
    state.faults.setProfile(server.plan.id, client, null);
    if (client === null) setLimits(view, { server: readLimits(view).server, client: applied.before! });
    else clearClientLimit(view, clientKeyIn(server, client));
    return { target: client ?? 'server', profile: null };
  }
  if (method !== 'PUT') throw new ApiError(405, 'expected PUT or DELETE');
  const { profile: name } = parseJson(body, '{"profile": "slow-3g"}') as { profile?: unknown };
  if (typeof name !== 'string') throw new ApiError(400, `profile: expected a name (${NETWORK_PROFILES.map((p) => p.name).join(', ')})`);
  const chosen = networkProfile(name);
  const limit = { rate: chosen.rate, burst: Math.max(1, Math.round(chosen.rate / 10)) };
  if (client === null) {
    // A `clients` schedule writes every client's slot: stopped (its slots cleared) first.
    state.schedules.clear(server.plan.id, 'clients');
    const limits = readLimits(view);
    setLimits(view, { server: limits.server, client: limit });
    state.profiles.set(key, { name: chosen.name, before: state.profiles.get(key)?.before ?? limits.client });
  } else {
    setClientLimit(view, clientKeyIn(server, client), limit);
    state.profiles.set(key, { name: chosen.name, before: null });
    state.schedules.forget(server.plan.id, { client });
  }
  state.faults.setProfile(server.plan.id, client, chosen);
  return { target: client ?? 'server', profile: chosen, limit };
}

function parseJson(body: string, example: string): object {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new ApiError(400, `the body is not JSON (expected ${example})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ApiError(400, `expected an object, e.g. ${example}`);
  return parsed;
}

function only<T>(method: string, allowed: string, answer: () => T): T {
  if (method !== allowed) throw new ApiError(405, `expected ${allowed}`);
  return answer();
}

/** The shaper memory of a server that has clients to limit (or, with `anyShaping`, any shaped one). */
function shapedView(server: ControlledServer, anyShaping = false): BigInt64Array {
  if (server.shaper === null || server.plan.shape === null) throw new ApiError(409, `${describeListen(server.plan.listen)} is not shaped: start it with --shape to change its rates at runtime`);
  if (server.plan.shape.by === 'connection' && !anyShaping) throw new ApiError(409, `${describeListen(server.plan.listen)} shapes per connection (--shape-by connection): it has no clients to limit`);
  return new BigInt64Array(server.shaper);
}

function describeServer(server: ControlledServer): unknown {
  const base = {
    id: server.plan.id,
    address: describeListen(server.plan.listen),
    shaped: server.shaper !== null,
    vhosts: server.vhosts.map(({ hostname, shaper }) => ({ host: hostname, limits: shaper === null ? null : readLimits(new BigInt64Array(shaper)) })),
  };
  if (server.shaper === null) return base;
  const view = new BigInt64Array(server.shaper);
  const limits = readLimits(view);
  return {
    ...base,
    limits,
    bucket: limits.server.rate > 0 ? bucketLevel(view, kServerTatNanos, limits.server.rate, limits.server.burst, hrClock()) : null,
    responses: Number(Atomics.load(view, kServerActiveFlows)),
    overflowFlows: overflowFlows(view),
  };
}

/** Clients in a live snapshot (the dashboard draws 8 and lists these). */
const LIVE_CLIENTS = 100;

function listClients(server: ControlledServer, state: ControlState) {
  const view = shapedView(server);
  const own = new Map(clientLimits(view).map((entry) => [`${entry.high}:${entry.low}`, entry.limit]));
  const limits = readLimits(view);
  const words = new Int32Array(view.buffer);
  const now = hrClock();
  const live = liveClients(view).map((client) => {
    const key = `${client.high}:${client.low}`;
    const limit = own.get(key) ?? null;
    own.delete(key);
    // What its flows read now: its slot's own words (a limit or a schedule's), else the server's client limit.
    const slotRate = Atomics.load(words, overrideRateInt32(client.line));
    const [rate, burst] = slotRate > 0 ? [slotRate, Atomics.load(words, overrideRateInt32(client.line) + 1)] : [limits.client.rate, limits.client.burst];
    const latest = state.activity.latest(server.plan.id, key);
    const path = latest?.path ?? null;
    return {
      client: clientName(client.high, client.low, client.fingerprint),
      responses: client.flows,
      limit,
      inForce: { rate, burst },
      bucket: rate > 0 ? bucketLevel(view, slotBase(client.line) + kSlotTatNanos, rate, burst, now) : null,
      path,
      rendition: path === null ? null : state.renditions.renditionOf(server.plan.id, path),
      ended: client.ended,
      tokenWaitSeconds: client.waitedMs / 1000,
      ...state.rates.rate(sampleKey(server.plan.id, client.line, client.high, client.low)),
    };
  });
  // Limits set for clients not connected now (their names need the key kind: addresses only).
  return { clients: live, waiting: own.size };
}

/**
 * A virtual host's own limits (given with -s after -v): `{"rate", "burst", "level"}`, level
 * `server` (the host's total, the default) or `client` (each of its clients).
 */
function setVhostRate(server: ControlledServer, hostname: string, body: string): unknown {
  const vhost = server.vhosts.find((candidate) => candidate.hostname === hostname.toLowerCase());
  if (vhost === undefined) throw new ApiError(404, `${describeListen(server.plan.listen)} has no virtual host ${hostname}`);
  if (vhost.shaper === null) throw new ApiError(409, `virtual host ${vhost.hostname} has no limits of its own: give it some at startup (-v ${vhost.hostname} -s ...)`);
  const { level = 'server' } = parseJson(body, '{"rate": "1MB", "level": "server"}') as { level?: unknown };
  if (level !== 'server' && level !== 'client') throw new ApiError(400, 'level: expected "server" (the host\'s total) or "client" (each of its clients)');
  const view = new BigInt64Array(vhost.shaper);
  const limits = readLimits(view);
  const requested = parseLimitBody(body, limits[level]);
  const next: ShapeLimits = level === 'server' ? { server: requested, client: limits.client } : { server: limits.server, client: requested };
  setLimits(view, next);
  return { host: vhost.hostname, limits: next };
}

/** What the dashboards are pushed: every server, the clients of those that have them, the schedules. */
export function liveSnapshot(state: ControlState): unknown {
  const withClients = state.servers.filter((server) => server.shaper !== null && server.plan.shape !== null && server.plan.shape.by !== 'connection');
  // The top clients by rate, and the rest added up: a snapshot stays small with any number of clients.
  const top = (server: ControlledServer) => {
    const ranked = listClients(server, state).clients.sort((a, b) => b.rate1s - a.rate1s);
    const sum = (list: typeof ranked) => list.reduce((total, client) => total + client.rate1s, 0);
    return { clients: ranked.slice(0, LIVE_CLIENTS), count: ranked.length, totalRate1s: sum(ranked), othersRate1s: sum(ranked.slice(LIVE_CLIENTS)) };
  };
  return {
    servers: state.servers.map(describeServer),
    clients: Object.fromEntries(withClients.map((server) => [server.plan.id, top(server)])),
    schedules: state.schedules.list(),
  };
}

function setServerRate(server: ControlledServer, body: string): unknown {
  const view = shapedView(server);
  const limits = readLimits(view);
  const requested = parseLimitBody(body, limits.server);
  const next: ShapeLimits = { server: requested, client: limits.client };
  setLimits(view, next);
  return { limits: next };
}

/**
 * `{"rate": "60kB" | 60000, "burst": "16kB" | 16000}`, units as --shape. Without a burst: the
 * same time of the new rate as the level's burst is of its rate now (one second when it has none).
 */
function parseLimitBody(body: string, level: { rate: number; burst: number }): { rate: number; burst: number } {
  const { rate, burst } = parseJson(body, '{"rate": "60kB", "burst": "16kB"}') as { rate?: unknown; burst?: unknown };
  const quantity = (value: unknown, field: string, kind: 'rate' | 'size'): number => {
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
    if (typeof value !== 'string') throw new ApiError(400, `${field}: expected a ${kind} such as ${kind === 'rate' ? '"60kB" or "4Mbit"' : '"16kB"'}`);
    const result = parseQuantity(value, kind);
    if (!result.ok) throw new ApiError(400, `${field}: ${result.message}`);
    return result.bytes;
  };
  if (rate === undefined) throw new ApiError(400, 'rate: missing (expected e.g. {"rate": "60kB"})');
  const bytesPerSecond = quantity(rate, 'rate', 'rate');
  const seconds = level.rate > 0 ? level.burst / level.rate : 1;
  return { rate: bytesPerSecond, burst: burst === undefined ? Math.min(2 ** 31 - 1, Math.round(bytesPerSecond * seconds)) : quantity(burst, 'burst', 'size') };
}
