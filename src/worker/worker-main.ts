/**
 * Entry point of a worker thread: opens this worker's listeners, serves until told to drain, and
 * on any uncaught error closes every uWS socket before exiting. A worker thread that ends with
 * uWS sockets open aborts the whole process (libuv: "uv_loop_close() while having open handles").
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadUws, type Uws } from '../../native-bindings/uws.js';
import { serializeError } from '../config/errors.js';
import { BlockCache } from '../files/block-cache.js';
import { AccessLogBuffer } from './access-log-buffer.js';
import { BufferPool } from '../files/buffer-pool.js';
import { OpenFiles } from '../files/open-files.js';
import { BodyStore } from '../files/body-store.js';
import { DirectoryCache } from '../files/directory-cache.js';
import { DEFAULT_BODY_BUDGET_BYTES } from '../files/file-cache.js';
import { PacingScheduler } from '../shaping/scheduler.js';
import { ServerShaper } from '../shaping/server-shaper.js';
import { ShapingCounters } from '../stats/shaping-stats.js';
import { PUBLISH_MS, ResponseCounters, siteIndex } from '../stats/response-stats.js';
import { connectionLimiter } from './connection-limit.js';
import { openListener, stopListening, type Listener } from './listeners.js';
import type { CoordinatorToWorker, WorkerInit, WorkerToCoordinator } from './messages.js';
import { ServerRuntime } from './server-runtime.js';
import type { FaultRule } from '../control/fault-rules.js';
import { ProxyHandler } from '../handlers/proxy/proxy-handler.js';
import { UpstreamStates } from '../handlers/proxy/upstream-states.js';

const port = parentPort;
if (port === null) throw new Error('worker-main must run in a worker thread');
const init = workerData as WorkerInit;
const post = (message: WorkerToCoordinator): void => port.postMessage(message);
const log = (line: string): void => {
  process.stderr.write(`[worker ${init.slot}] ${line}\n`);
};

const listeners: Listener[] = [];
const accessLog = init.plan.logfile === null ? null : new AccessLogBuffer((lines) => post({ type: 'access-log', lines }));
const counterSets: Array<{ publish(): void }> = [];
let uws: Uws | undefined;
let closed = false;

/** Closes every app (and with it every connection). Idempotent. */
function closeAll(): void {
  if (closed) return;
  closed = true;
  for (const listener of listeners) {
    try {
      // app.close() alone leaves the listen descriptor in the kernel's SO_REUSEPORT group,
      // where connections would be reset instead of going to the other workers.
      if (uws) stopListening(uws, listener);
      listener.app.close();
    } catch (error) {
      log(`closing server ${listener.serverId}: ${String(error)}`);
    }
  }
}

function fatal(error: unknown): void {
  closeAll();
  accessLog?.flush();
  post({ type: 'fatal', error: serializeError(error) });
  process.exit(1);
}

process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);

function start(): void {
  uws = loadUws();
  const pool = new BufferPool();
  const blocks = new BlockCache();
  const files = new OpenFiles();
  const bodies = new BodyStore(init.memory.bodyBudget, init.slot, DEFAULT_BODY_BUDGET_BYTES);
  const directories = new DirectoryCache();
  // One keep-alive pool per upstream in this worker, shared by every server that proxies to it.
  const proxy =
    init.plan.upstreams.length === 0
      ? null
      : new ProxyHandler({
          upstreams: init.plan.upstreams,
          policy: init.plan.proxy,
          states: new UpstreamStates(init.memory.upstreams),
          cors: init.plan.http.cors,
        });
  const scheduler = new PacingScheduler(undefined, undefined, (error) => log(`pacing error: ${String(error)}`));
  const runtimes = init.plan.servers.map((server) => {
    const memory = init.memory.shapers[server.id]!;
    const counters = new ShapingCounters(init.memory.stats, server.id, init.slot, init.plan.workers);
    const responses = [server.site, ...server.vhosts].map(
      (_, site) => new ResponseCounters(init.memory.responses, siteIndex(init.plan.servers, server.id, site), init.slot, init.plan.workers),
    );
    counterSets.push(counters, ...responses);
    // A server's and its virtual hosts' flows count into the server's counters.
    const shaperOf = (sab: SharedArrayBuffer | null): ServerShaper | null =>
      sab === null ? null : new ServerShaper(sab, scheduler, { onWrite: (bytes) => counters.wrote(bytes), onWaited: (nanos) => counters.waited(nanos) });
    return new ServerRuntime(server, init.plan.http, {
      accessLog,
      pool,
      blocks,
      files,
      bodies,
      directories,
      proxy,
      log,
      shaper: shaperOf(memory.server),
      responses,
      vhostShapers: memory.vhosts.map(shaperOf),
      responseTiming: init.plan.responseTiming,
      observe: init.plan.admin !== null,
      playlistServed: (serverId, facts) => post({ type: 'playlist', serverId, facts }),
    });
  });
  const setFaults = (rules: readonly FaultRule[]): void => {
    for (const runtime of runtimes) runtime.setFaults(rules.filter((rule) => rule.server === runtime.id));
  };
  for (const runtime of runtimes) runtime.holding = init.held;
  setFaults(init.faults);
  // Counters reach shared memory a few times a second, so the control plane's metrics stay fresh.
  setInterval(() => {
    for (const counters of counterSets) counters.publish();
    for (const runtime of runtimes) {
      const paths = runtime.takeClientPaths();
      if (paths.length > 0) post({ type: 'client-paths', serverId: runtime.id, paths });
    }
  }, PUBLISH_MS).unref();
  const limiter = connectionLimiter(init.memory.connections, init.plan.maxConnections ?? Number.MAX_SAFE_INTEGER);
  for (const server of init.plan.servers) {
    // A unix socket cannot be shared by several listeners: the first worker serves it.
    if (server.listen.kind === 'unix' && init.slot !== 0) continue;
    try {
      listeners.push(openListener(uws, server.id, server.listen, runtimes[server.id]!.handle, limiter));
    } catch (error) {
      closeAll();
      post({ type: 'listen-failed', serverId: server.id, error: serializeError(error) });
      process.exit(1);
    }
  }
  port!.on('message', (message: CoordinatorToWorker) => {
    switch (message.type) {
      case 'drain':
        return drain(runtimes, message.graceMs);
      case 'serve':
        for (const runtime of runtimes) runtime.holding = false;
        return;
      case 'faults':
        return setFaults(message.rules);
      case 'inject-crash':
        setImmediate(() => {
          throw new Error('injected crash (fault injection)');
        });
        return;
    }
  });
  post({ type: 'ready' });
}

/**
 * How long connections stay open after the last response that ended during a drain. A response
 * ends when its last bytes are handed to uWS, and uWS may still hold up to its 16 KiB cork buffer
 * of them until the client reads enough for the kernel to take the rest (no event tells when);
 * closing at once would cut that tail. A client reading 16 KiB/s or faster gets it within this.
 */
const FLUSH_LINGER_MS = 1000;

/** Stops accepting, lets in-flight exchanges finish for up to `graceMs`, then closes and exits. */
function drain(runtimes: readonly ServerRuntime[], graceMs: number): void {
  for (const listener of listeners) stopListening(uws!, listener);
  for (const runtime of runtimes) runtime.closing = true;
  const startedAt = performance.now();
  let finished = false;
  const finish = (): void => {
    // closeAll() aborts the responses still running, which makes the runtimes idle and calls
    // back in here: finish only once.
    if (finished) return;
    finished = true;
    clearTimeout(deadline);
    clearTimeout(linger);
    const cutResponses = runtimes.reduce((sum, runtime) => sum + runtime.active, 0);
    closeAll();
    accessLog?.flush();
    for (const counters of counterSets) counters.publish();
    post({ type: 'drained', cutResponses });
    process.exit(0);
  };
  const deadline = setTimeout(finish, graceMs);
  let linger: NodeJS.Timeout | undefined;
  const whenAllIdle = (callback: () => void): void => {
    let pending = runtimes.length;
    for (const runtime of runtimes) {
      runtime.whenIdle(() => {
        if (--pending === 0) callback();
      });
    }
  };
  const settle = (): void => {
    const lastEndedAt = Math.max(...runtimes.map((runtime) => runtime.lastEndedAt));
    const wait = lastEndedAt < startedAt ? 0 : lastEndedAt + FLUSH_LINGER_MS - performance.now();
    if (wait <= 0) finish();
    // A keep-alive client may send another request meanwhile: wait for it too, then settle again.
    else linger = setTimeout(() => whenAllIdle(settle), wait);
  };
  whenAllIdle(settle);
}

try {
  start();
} catch (error) {
  fatal(error);
}
