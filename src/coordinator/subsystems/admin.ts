/**
 * The control plane's listener (`--admin`): a small HTTP server in the coordinator (node:http:
 * a few requests a second at most, never on the media path) that checks the bearer token and
 * hands each request to control/control-api.ts. Bodies are capped; answers are JSON.
 */
import { chmodSync, lstatSync, readFileSync, unlinkSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { timingSafeEqual, createHash } from 'node:crypto';
import { StartupError, StartupErrorCode } from '../../config/errors.js';
import type { AdminPlan } from '../../config/plan.js';
import { describeListen } from '../../config/strport.js';
import { handleControl, type ControlledServer, type ControlState } from '../../control/control-api.js';
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
import type { Subsystem } from '../lifecycle.js';

const MAX_BODY_BYTES = 16 * 1024 * 1024;
// (Traces are large: ten minutes of a mahimahi trace at 10 Mbit/s is some 3 MB.)

export function adminListener(
  plan: AdminPlan,
  servers: readonly ControlledServer[],
  metrics: MetricsMemory,
  schedules: ScheduleRunner,
  workers: { setFaults(rules: readonly FaultRule[]): void; onObservation(listener: (observation: WorkerObservation) => void): void },
  io: { print(line: string): void; log(line: string): void },
): Subsystem {
  let server: Server | null = null;
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
  let sampler: NodeJS.Timeout | null = null;
  const expected = plan.token === null ? null : digest(plan.token);
  const answer = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    const text = `${JSON.stringify(body, null, 2)}\n`;
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
    res.end(text);
  };
  // The page holds no data (it asks the API, with the token, for all it shows): served to anyone
  // who may reach the listener.
  const dashboard = dashboardPage(readUplotAssets());
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    // Loopback Host, and no other origin (another loopback port is another site: a page served
    // by the media server itself must not drive the API).
    const local = isLoopbackHost(req.headers.host) && (req.headers.origin === undefined || sameOrigin(req.headers.origin, req.headers.host));
    if (req.method === 'GET' && (req.url === '/dashboard' || req.url === '/') && (expected !== null || local)) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(dashboard), 'cache-control': 'no-store', 'x-content-type-options': 'nosniff',
        // Its own inline scripts and the API only; no framing (its buttons change limits).
        'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'",
        'x-frame-options': 'DENY',
      });
      res.end(dashboard);
      return;
    }
    if (expected !== null) {
      // The scheme in any case (RFC 7235); the token compared as digests: equal length, constant time.
      const [scheme, token] = (req.headers.authorization ?? '').split(' ', 2);
      if (scheme?.toLowerCase() !== 'bearer' || !timingSafeEqual(digest(token ?? ''), expected)) {
        return answer(res, 401, { error: 'expected Authorization: Bearer TOKEN (--admin-token)' }, { 'www-authenticate': 'Bearer realm="mediacast"', connection: 'close' });
      }
    } else if (!local) {
      // No token, so loopback only: a page in a local browser must not reach it through a name
      // rebound to 127.0.0.1 (its Host is that name) or by a cross-origin request.
      return answer(res, 403, { error: 'without --admin-token the control plane answers only Host 127.0.0.1, [::1] or localhost, and no other origin' }, { connection: 'close' });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        if (!res.headersSent) answer(res, 413, { error: `the body is over ${MAX_BODY_BYTES} bytes` }, { connection: 'close' });
        // Stop reading once the answer is out (destroying at once would lose it).
        res.once('finish', () => req.destroy());
        req.pause();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (res.headersSent) return;
      try {
        const { status, body, text } = handleControl(state, req.method ?? 'GET', req.url ?? '/', Buffer.concat(chunks).toString('utf8'));
        if (text === undefined) return answer(res, status, body);
        res.writeHead(status, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
        res.end(text);
      } catch (error) {
        io.log(`control plane: ${req.method} ${req.url}: ${(error as Error).message}`);
        answer(res, 500, { error: 'internal error (see the server log)' });
      }
    });
    req.on('error', () => res.destroy());
  };
  return {
    name: 'control plane',
    async start() {
      const listen = plan.listen;
      // Timeouts are swept every second (Node's default is 30 s).
      const options = { connectionsCheckingInterval: 1000 };
      let created: Server;
      try {
        created = listen.kind === 'ssl' ? createHttpsServer({ ...options, key: readFileSync(listen.privateKey), cert: readFileSync(listen.certKey) }, handle) : createHttpServer(options, handle);
      } catch (error) {
        throw new StartupError(StartupErrorCode.CertificateMissing, `--admin ${describeListen(listen)}: ${(error as Error).message}`);
      }
      created.headersTimeout = 10_000;
      created.requestTimeout = 60_000;
      // A few control clients at most: descriptors are shared with the media workers.
      created.maxConnections = 32;
      await new Promise<void>((resolve, reject) => {
        created.once('error', (error: NodeJS.ErrnoException) =>
          reject(new StartupError(error.code === 'EADDRINUSE' ? StartupErrorCode.PortInUse : StartupErrorCode.ListenFailed, `--admin ${describeListen(listen)}: ${error.message}`)),
        );
        if (listen.kind === 'unix') {
          removeStaleSocket(listen.path);
          created.listen(listen.path, () => {
            // Its mode decides who may talk to it (a token is needed unless only its owner and group can).
            chmodSync(listen.path, listen.mode);
            resolve();
          });
        } else created.listen(listen.port, listen.host, resolve);
      });
      created.on('error', (error) => io.log(`control plane: ${error.message}`));
      server = created;
      sampler = setInterval(() => state.rates.sample(), 1000);
      state.rates.sample();
      const address = created.address();
      const port = typeof address === 'object' && address !== null ? address.port : undefined;
      io.print(`control plane at ${describeListen(listen, port)}${plan.token === null ? '' : ' (bearer token required)'}`);
    },
    async stop() {
      if (sampler !== null) clearInterval(sampler);
      sampler = null;
      const running = server;
      if (running === null) return;
      server = null;
      running.closeAllConnections();
      await new Promise<void>((resolve) => running.close(() => resolve()));
    },
  };
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

function isLoopbackHost(host: string | undefined): boolean {
  return host !== undefined && LOOPBACK_HOST.test(host);
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
