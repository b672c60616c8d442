/**
 * The coordinator: validates the environment against the plan, allocates the shared memory, and
 * runs its subsystems (lifecycle.ts) in order: the access log, the workers, the switch to
 * --run-as, the counter reports; shutdown takes them down in reverse within one grace period.
 */
import type { Plan, ServerPlan, ShapePlan } from '../config/plan.js';
import { freezePlan } from '../config/plan.js';
import { describeLevel } from '../config/shape-spec.js';
import { describeListen } from '../config/strport.js';
import { formatInteger } from '../config/rate-units.js';
import { createBodyBudget } from '../files/body-store.js';
import { createConnectionCounters } from '../worker/connection-limit.js';
import { createShaperMemory } from '../shaping/shaper-memory.js';
import { createStatsMemory } from '../stats/shaping-stats.js';
import type { SharedMemory } from '../worker/messages.js';
import { StartupError, StartupErrorCode } from '../config/errors.js';
import { AccessLogWriter } from './access-log.js';
import { FD_PATHS } from '../files/safe-open.js';
import { checkCanSwitch, resolveIdentity, runningAsRoot } from './privileges.js';
import { prepareServers } from './listen-checks.js';
import { counterReporting, overflowReport, shedReport, type CounterReport } from './counter-reports.js';
import { startInOrder } from './lifecycle.js';
import { privilegesStep } from './subsystems/privileges.js';
import { shapingTotals } from './subsystems/shaping-totals.js';
import { unixSocketFiles } from './subsystems/unix-sockets.js';
import { mdnsAdvertising } from './subsystems/mdns.js';
import { VERSION } from '../version.js';
import { defaultMaxConnections, LOW_DESCRIPTOR_LIMIT, readDescriptorLimit } from './descriptor-limit.js';
import { WorkerPool } from './worker-pool.js';
import { createUpstreamStates } from '../handlers/proxy/upstream-states.js';
import { upstreamRegistry } from './subsystems/upstream-registry.js';
import { adminListener } from './subsystems/admin.js';
import { rateSchedules } from './subsystems/rate-schedules.js';
import { createResponseStats, siteCount } from '../stats/response-stats.js';
import { upstreamOrigin } from '../config/proxy-spec.js';

export interface CoordinatorIo {
  /** Startup and status lines (stdout). */
  readonly print: (line: string) => void;
  /** Warnings and errors (stderr). */
  readonly log: (line: string) => void;
}

/** One listening address, as bound. */
export interface BoundServer {
  readonly id: number;
  /** URL (or unix:path) clients use. */
  readonly address: string;
  /** The bound TCP port; undefined for unix sockets. */
  readonly port: number | undefined;
  readonly root: string;
}

export interface RunningServer {
  readonly servers: readonly BoundServer[];
  readonly workers: WorkerPool;
  /** The shared memory the workers run on (shapers, counters). */
  readonly memory: SharedMemory;
  /** Reopens the access log file (after log rotation moved it). */
  reopenLog(): void;
  /** Stops accepting, drains within the plan's grace period, stops the workers. Idempotent. */
  shutdown(): Promise<void>;
}

/** Starts serving `plan`. Rejects with a StartupError when the environment refuses it. */
export async function startServer(plan: Plan, io: CoordinatorIo): Promise<RunningServer> {
  const identity = plan.runAs === null ? null : resolveIdentity(plan.runAs);
  if (identity !== null) checkCanSwitch(identity);
  if (identity !== null && identity.groups.includes(0)) {
    io.log('warning: --run-as: the account is in group 0 (root), which keeps the root group\'s file permissions');
  }
  if (!FD_PATHS && plan.servers.some((server) => [server.site, ...server.vhosts].some((site) => site.userDirs !== null))) {
    throw new StartupError(
      StartupErrorCode.UserDirs,
      'user directories (-u) need /proc (Linux) to check every opened file against its owner\'s public_html',
    );
  }
  const servers = await prepareServers(plan.servers);
  const connections = connectionCap(plan, io);
  const boundPlan = freezePlan({ ...plan, servers, maxConnections: connections.max });
  const memory: SharedMemory = {
    connections: createConnectionCounters(),
    shapers: servers.map((server) => ({
      server: shaperFor(server.shape),
      vhosts: server.vhosts.map((vhost) => shaperFor(vhost.shape)),
    })),
    stats: createStatsMemory(servers.length, plan.workers),
    responses: createResponseStats(siteCount(servers), plan.workers),
    bodyBudget: createBodyBudget(plan.workers),
    upstreams: createUpstreamStates(plan.upstreams.length),
  };
  // uWS reads this once, when its native module loads (in the first worker): the process's
  // environment, not a worker's copy of it.
  process.env['UWS_HTTP_MAX_HEADERS_SIZE'] = String(plan.maxHeaderBytes);
  const accessLog = plan.logfile === null ? null : new AccessLogWriter(plan.logfile, io.log);
  const workers = new WorkerPool(boundPlan, memory, io.log, (lines) => accessLog?.write(lines), identity !== null && runningAsRoot());
  const controlled = servers.map((server) => ({
    plan: server,
    shaper: memory.shapers[server.id]!.server,
    vhosts: server.vhosts.map((vhost, i) => ({ hostname: vhost.hostname, shaper: memory.shapers[server.id]!.vhosts[i]! })),
  }));
  const schedules = plan.admin || servers.some((server) => server.shapeSchedule !== null) ? rateSchedules(controlled, io) : null;
  // In starting order; they stop in reverse.
  const running = await startInOrder(
    [
      ...(accessLog ? [accessLog] : []),
      unixSocketFiles(servers, io.log),
      ...(plan.upstreams.length > 0 ? [upstreamRegistry(plan.upstreams, plan.proxy.checkIntervalMs, memory.upstreams, io.log)] : []),
      shapingTotals(servers, memory.stats, plan.workers, io.print),
      workers,
      ...(schedules ? [schedules] : []),
      // Before the switch to --run-as: it may bind what only root can.
      ...(plan.admin
        ? [
            adminListener(
              plan.admin,
              controlled,
              { shaping: memory.stats, responses: memory.responses, workers: plan.workers },
              schedules!.runner,
              workers,
              io,
            ),
          ]
        : []),
      privilegesStep(servers, identity, workers, io.log),
      counterReporting([...overflowReports(servers, memory), shedReport(memory.connections, connections.max)], io.log),
      mdnsAdvertising(servers, plan.bonjourInterfaces, VERSION, io),
    ],
    io.log,
  );
  for (const server of servers) {
    const everywhere = server.listen.kind !== 'unix' && server.listen.host === undefined;
    io.print(`serving ${server.site.root} at ${describeListen(server.listen)}${everywhere ? ' (every IPv4 and IPv6 address)' : ''}`);
    if (server.shape) io.print(`  ${describeShape(server.shape)}`);
    for (const vhost of server.vhosts) {
      if (vhost.shape) io.print(`  virtual host ${vhost.hostname}, inside the server's limits: ${describeShape(vhost.shape)}`);
    }
    for (const [site, label] of [[server.site, ''], ...server.vhosts.map((vhost) => [vhost, ` (virtual host ${vhost.hostname})`] as const)] as const) {
      for (const proxy of site.proxies) {
        const upstream = plan.upstreams[proxy.upstream]!;
        io.print(`  proxying ${proxy.mount === '' ? 'every path' : `${proxy.mount}/`}${label} to ${upstreamOrigin(upstream)}${upstream.path}/`);
      }
    }
    if (server.monster !== null) io.print(`  vhost monster at ${server.monster}/http(s)/HOST[:PORT]/`);
  }
  return {
    servers: servers.map(describeBound),
    workers,
    memory,
    reopenLog: () => accessLog?.reopen(),
    shutdown: () => running.stop(plan.shutdownGraceMs),
  };
}

/** One report per shaped server and virtual host: responses that found its client table full. */
function overflowReports(servers: readonly ServerPlan[], memory: SharedMemory): CounterReport[] {
  return servers.flatMap((server) => {
    const { server: own, vhosts } = memory.shapers[server.id]!;
    return [
      ...(own && server.shape ? [overflowReport(describeListen(server.listen), server.shape, own)] : []),
      ...server.vhosts.flatMap((vhost, i) =>
        vhosts[i] && vhost.shape ? [overflowReport(`${describeListen(server.listen)} ${vhost.hostname}`, vhost.shape, vhosts[i]!)] : [],
      ),
    ];
  });
}

/**
 * The connection cap in force: --max-connections, or what the descriptor limit allows. Warns when
 * the limit is low for a load test, or the cap is above what the limit can hold.
 */
function connectionCap(plan: Plan, io: CoordinatorIo): { max: number } {
  const limit = readDescriptorLimit();
  const fits = limit === null ? null : defaultMaxConnections(limit, plan.workers);
  const max = plan.maxConnections ?? fits ?? 1_000_000;
  if (limit !== null && fits !== null && max > fits) {
    io.log(
      `warning: --max-connections ${formatInteger(max)} is more than the descriptor limit (${formatInteger(limit)}, ulimit -n) ` +
        `can hold; past about ${formatInteger(fits)} connections accepts may fail`,
    );
  } else if (limit !== null && limit < LOW_DESCRIPTOR_LIMIT) {
    io.log(
      `warning: the descriptor limit is ${formatInteger(limit)} (ulimit -n): at most ${formatInteger(max)} connections at once; ` +
        'raise it (ulimit -n 65536) for load tests',
    );
  }
  return { max };
}

function shaperFor(shape: ShapePlan | null): SharedArrayBuffer | null {
  return shape === null ? null : createShaperMemory(shape.limits, shape.tableSize);
}

function describeShape(shape: ShapePlan): string {
  const clientUnit =
    shape.by === 'connection'
      ? 'per connection'
      : shape.clientIdHeader
        ? `per ${shape.clientIdHeader} header value, else per IP`
        : shape.ipv6PrefixBits < 128
          ? `per IP (IPv6 per /${shape.ipv6PrefixBits})`
          : 'per IP';
  return `${describeLevel('server', shape.limits.server)}; ${describeLevel('client', shape.limits.client)} (${clientUnit})`;
}

function describeBound(server: ServerPlan): BoundServer {
  const listen = server.listen;
  return {
    id: server.id,
    address: describeListen(listen),
    port: listen.kind === 'unix' ? undefined : listen.port,
    root: server.site.root,
  };
}
