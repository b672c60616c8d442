/**
 * The control plane's listener (`--admin`): a uWS app in the coordinator (a few requests a second
 * at most, never on the media path) that checks the bearer token and hands each request to
 * control/control-api.ts, serves the dashboard page, and pushes a snapshot of the servers and
 * their clients about four times a second over a WebSocket (`/live`) to the dashboards open.
 * Bodies are capped; answers are JSON.
 */
import { chmodSync, lstatSync, readFileSync, unlinkSync } from 'node:fs';
import { timingSafeEqual, createHash } from 'node:crypto';
import { loadUws, type HttpResponse, type ListenSocket, type ServerApp, type WebSocket } from '../../../native-bindings/uws.js';
import { StartupError, StartupErrorCode } from '../../config/errors.js';
import type { AdminPlan } from '../../config/plan.js';
import { describeListen } from '../../config/strport.js';
import { handleControl, liveSnapshot, type ControlledServer, type ControlState } from '../../control/control-api.js';
import { FaultBoard } from '../../control/fault-board.js';
import { ClientActivity } from '../../control/client-activity.js';
import { RenditionMap } from '../../control/rendition-map.js';
import type { WorkerObservation } from '../../worker/messages.js';
import type { FaultRule } from '../../control/fault-rules.js';
import type { ScheduleRunner } from '../../control/schedule-runner.js';
import { ClientRates } from '../../control/client-rates.js';
import type { MetricsMemory } from '../../control/metrics-text.js';
import { dashboardPage } from '../../control/dashboard-page.js';
import { readUplotAssets } from '../../charts/uplot-assets.js';
import { statusLine } from '../../http/status.js';
import type { Subsystem } from '../lifecycle.js';

const MAX_BODY_BYTES = 16 * 1024 * 1024;
// (Traces are large: ten minutes of a mahimahi trace at 10 Mbit/s is some 3 MB.)
/** A few control clients at most: descriptors are shared with the media workers. */
const MAX_CONNECTIONS = 32;
/** Of which one peer address may hold this many (one peer cannot take them all). */
const MAX_PER_ADDRESS = 8;
/** Snapshots pushed to the dashboards this often. */
const PUSH_MS = 250;
const LIVE_TOPIC = 'live';

/** A WebSocket that has not shown the token within this long is closed. */
const TOKEN_DEADLINE_MS = 5000;

/** A dashboard's WebSocket: it gets snapshots once it has shown the token (or when none is needed). */
interface LiveSocket {
  authorized: boolean;
  closed: boolean;
  /** Its peer's address, as the connection cap counts it. */
  readonly peer: ArrayBuffer;
  deadline: NodeJS.Timeout | null;
}

export function adminListener(
  plan: AdminPlan,
  servers: readonly ControlledServer[],
  metrics: MetricsMemory,
  schedules: ScheduleRunner,
  workers: { setFaults(rules: readonly FaultRule[]): void; onObservation(listener: (observation: WorkerObservation) => void): void },
  io: { print(line: string): void; log(line: string): void },
): Subsystem {
  const state: ControlState = {
    servers,
    schedules,
    rates: new ClientRates(servers),
    metrics,
    faults: new FaultBoard((rules) => workers.setFaults(rules)),
    profiles: new Map(),
    activity: new ClientActivity(),
    renditions: new RenditionMap(),
  };
  workers.onObservation((observation) => {
    if (observation.type === 'playlist') state.renditions.learn(observation.serverId, observation.facts);
    else state.activity.record(observation.serverId, observation.paths);
  });
  let app: ServerApp | null = null;
  let listenSocket: ListenSocket | null = null;
  let sampler: NodeJS.Timeout | null = null;
  let pusher: NodeJS.Timeout | null = null;
  let connections = 0;
  const perAddress = new Map<string, number>();
  /** Counts a connection of `peer` in (+1) or out (-1); true when it is over a cap. */
  const count = (peer: ArrayBuffer, change: number): boolean => {
    connections += change;
    const key = Buffer.from(peer).toString('hex');
    const held = (perAddress.get(key) ?? 0) + change;
    if (held > 0) perAddress.set(key, held);
    else perAddress.delete(key);
    return change > 0 && (connections > MAX_CONNECTIONS || held > MAX_PER_ADDRESS);
  };
  const expected = plan.token === null ? null : digest(plan.token);
  const tokenMatches = (token: string): boolean => expected !== null && timingSafeEqual(digest(token), expected);
  // The page holds no data (it asks for all it shows, with the token): served to anyone who may reach the listener.
  const dashboard = dashboardPage(readUplotAssets());

  const handle = (res: HttpResponse, method: string, url: string, host: string, origin: string, authorization: string): void => {
    // Loopback Host, and no other origin (another loopback port is another site: a page served
    // by the media server itself must not drive the API).
    const local = isLoopbackHost(host) && (origin === '' || sameOrigin(origin, host));
    if (method === 'GET' && (url === '/dashboard' || url === '/') && (expected !== null || local)) {
      return write(res, 200, 'text/html; charset=utf-8', dashboard, [
        ['x-content-type-options', 'nosniff'],
        // Its own inline scripts, the API and its WebSocket only; no framing (its buttons change limits).
        ['content-security-policy', "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'"],
        ['x-frame-options', 'DENY'],
      ]);
    }
    if (expected !== null) {
      // The scheme in any case (RFC 7235); the token compared as digests: equal length, constant time.
      const [scheme, token] = authorization.split(' ', 2);
      if (scheme?.toLowerCase() !== 'bearer' || !tokenMatches(token ?? '')) {
        return json(res, 401, { error: 'expected Authorization: Bearer TOKEN (--admin-token)' }, [['www-authenticate', 'Bearer realm="mediacast"'], ['connection', 'close']]);
      }
    } else if (!local) {
      // No token, so loopback only: a page in a local browser must not reach it through a name
      // rebound to 127.0.0.1 (its Host is that name) or by a cross-origin request.
      return json(res, 403, { error: 'without --admin-token the control plane answers only Host 127.0.0.1, [::1] or localhost, and no other origin' }, [['connection', 'close']]);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    res.onAborted(() => {
      done = true;
    });
    res.onData((chunk, isLast) => {
      if (done) return;
      size += chunk.byteLength;
      if (size > MAX_BODY_BYTES) {
        done = true;
        return res.cork(() => json(res, 413, { error: `the body is over ${MAX_BODY_BYTES} bytes` }, [['connection', 'close']]));
      }
      // uWS reuses the chunk's memory after this callback.
      chunks.push(Buffer.from(chunk.slice(0)));
      if (!isLast) return;
      done = true;
      res.cork(() => {
        try {
          const { status, body, text } = handleControl(state, method, url, Buffer.concat(chunks).toString('utf8'));
          if (text === undefined) json(res, status, body);
          else write(res, status, 'text/plain; version=0.0.4; charset=utf-8', text);
        } catch (error) {
          io.log(`control plane: ${method} ${url}: ${(error as Error).message}`);
          json(res, 500, { error: 'internal error (see the server log)' });
        }
      });
    });
  };

  const create = (): ServerApp => {
    const uws = loadUws();
    const listen = plan.listen;
    if (listen.kind !== 'ssl') return uws.App();
    // Read first: uWS says only that it failed.
    for (const file of [listen.privateKey, listen.certKey]) {
      try {
        readFileSync(file);
      } catch (error) {
        throw new StartupError(StartupErrorCode.CertificateMissing, `--admin ${describeListen(listen)}: ${(error as Error).message}`);
      }
    }
    return uws.SSLApp({ key_file_name: listen.privateKey, cert_file_name: listen.certKey });
  };

  return {
    name: 'control plane',
    async start() {
      const listen = plan.listen;
      const created = create();
      // Connections past the cap are closed on arrival (count is +1 on open, -1 on close of an
      // HTTP connection; one upgraded to a WebSocket is counted down when that closes).
      created.filter((res, change) => {
        if (count(res.getRemoteAddress(), change)) res.close();
      });
      created.any('/*', (res, req) => {
        const query = req.getQuery();
        handle(res, req.getCaseSensitiveMethod(), query ? `${req.getUrl()}?${query}` : req.getUrl(), req.getHeader('host'), req.getHeader('origin'), req.getHeader('authorization'));
      });
      created.ws<LiveSocket>('/live', {
        compression: 0,
        maxPayloadLength: 4096,
        idleTimeout: 120,
        // A dashboard that cannot keep up misses snapshots instead of piling them up here.
        maxBackpressure: 1024 * 1024,
        upgrade: (res, req, context) => {
          const host = req.getHeader('host');
          const origin = req.getHeader('origin');
          // A WebSocket is not bound by the same-origin policy: another site's page must not read it.
          if (origin !== '' && !sameOrigin(origin, host)) return json(res, 403, { error: 'the live feed answers pages of this origin only' }, [['connection', 'close']]);
          if (expected === null && !isLoopbackHost(host)) return json(res, 403, { error: 'without --admin-token the control plane answers only loopback Host names' }, [['connection', 'close']]);
          res.upgrade<LiveSocket>(
            { authorized: expected === null, closed: false, deadline: null, peer: res.getRemoteAddress().slice(0) },
            req.getHeader('sec-websocket-key'),
            req.getHeader('sec-websocket-protocol'),
            req.getHeader('sec-websocket-extensions'),
            context,
          );
        },
        open: (ws: WebSocket<LiveSocket>) => {
          const data = ws.getUserData();
          if (data.authorized) {
            ws.subscribe(LIVE_TOPIC);
            return;
          }
          data.deadline = setTimeout(() => {
            data.deadline = null;
            if (!data.closed && !data.authorized) ws.end(4401, 'expected the --admin-token as the first message');
          }, TOKEN_DEADLINE_MS);
        },
        close: (ws: WebSocket<LiveSocket>) => {
          const data = ws.getUserData();
          data.closed = true;
          if (data.deadline !== null) clearTimeout(data.deadline);
          // uWS's filter counted this connection up when it was HTTP, and never counts it down.
          count(data.peer, -1);
        },
        // With a token, the first message is it (a browser cannot set headers on a WebSocket).
        message: (ws: WebSocket<LiveSocket>, message) => {
          const data = ws.getUserData();
          if (data.authorized) return;
          if (!tokenMatches(Buffer.from(message).toString('utf8'))) return ws.end(4401, 'expected the --admin-token as the first message');
          data.authorized = true;
          if (data.deadline !== null) clearTimeout(data.deadline);
          data.deadline = null;
          ws.subscribe(LIVE_TOPIC);
          ws.send(JSON.stringify(liveSnapshot(state)));
        },
      });
      const token = await new Promise<ListenSocket | false>((resolve) => {
        if (listen.kind === 'unix') {
          removeStaleSocket(listen.path);
          // Created with no access for others, then given its mode: no moment with the umask's.
          const umask = process.umask(0o177);
          try {
            created.listen_unix((socket) => resolve(socket), listen.path);
          } finally {
            process.umask(umask);
          }
        } else if (listen.host === undefined) created.listen(listen.port, (socket) => resolve(socket));
        else created.listen(listen.host, listen.port, (socket) => resolve(socket));
      });
      if (!token) {
        created.close();
        throw new StartupError(StartupErrorCode.ListenFailed, `--admin ${describeListen(listen)}: cannot listen there (in use, or not an address of this machine)`);
      }
      // Its mode decides who may talk to it (a token is needed unless only its owner and group can).
      if (listen.kind === 'unix') chmodSync(listen.path, listen.mode);
      app = created;
      listenSocket = token;
      sampler = setInterval(() => state.rates.sample(), 1000);
      state.rates.sample();
      pusher = setInterval(() => {
        if (created.numSubscribers(LIVE_TOPIC) === 0) return;
        try {
          created.publish(LIVE_TOPIC, JSON.stringify(liveSnapshot(state)));
        } catch (error) {
          io.log(`control plane: the live feed: ${(error as Error).message}`);
        }
      }, PUSH_MS);
      const port = listen.kind === 'unix' ? undefined : loadUws().us_socket_local_port(token);
      io.print(`control plane at ${describeListen(listen, port)}${plan.token === null ? '' : ' (bearer token required)'}`);
    },
    async stop() {
      for (const timer of [sampler, pusher]) if (timer !== null) clearInterval(timer);
      sampler = null;
      pusher = null;
      if (listenSocket !== null) loadUws().us_listen_socket_close(listenSocket);
      listenSocket = null;
      // Closes every connection and WebSocket still open.
      app?.close();
      app = null;
    },
  };
}

function write(res: HttpResponse, status: number, type: string, body: string, headers: ReadonlyArray<readonly [string, string]> = []): void {
  res.writeStatus(statusLine(status)).writeHeader('content-type', type).writeHeader('cache-control', 'no-store');
  let close = false;
  // uWS says Connection: close itself when asked to close after the answer.
  for (const [name, value] of headers) {
    if (name === 'connection') close = true;
    else res.writeHeader(name, value);
  }
  res.end(body, close);
}

function json(res: HttpResponse, status: number, body: unknown, headers: ReadonlyArray<readonly [string, string]> = []): void {
  write(res, status, 'application/json; charset=utf-8', `${JSON.stringify(body, null, 2)}\n`, headers);
}

/** A socket file left by a server that died: in the way of listening again. Anything else stays. */
function removeStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // Not there: nothing to remove.
  }
}

const LOOPBACK_HOST = /^(?:127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\]|localhost)(?::\d+)?$/i;

function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOST.test(host);
}

function sameOrigin(origin: string, host: string): boolean {
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
