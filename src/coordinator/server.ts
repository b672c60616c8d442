/**
 * The coordinator: validates the environment against the plan, starts the workers, reports what
 * listens where, and shuts everything down in a fixed order (stop accepting, drain in-flight
 * responses, let workers close their sockets and exit, remove unix sockets).
 */
import { chmodSync, rmSync } from 'node:fs';
import type { Plan, ServerPlan } from '../config/plan.js';
import { freezePlan } from '../config/plan.js';
import { describeListen } from '../config/strport.js';
import { prepareServers } from './listen-checks.js';
import { WorkerPool } from './worker-pool.js';

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
  /** Stops accepting, drains within the plan's grace period, stops the workers. Idempotent. */
  shutdown(): Promise<void>;
}

/** Starts serving `plan`. Rejects with a StartupError when the environment refuses it. */
export async function startServer(plan: Plan, io: CoordinatorIo): Promise<RunningServer> {
  const servers = await prepareServers(plan.servers);
  const boundPlan = freezePlan({ ...plan, servers });
  const workers = new WorkerPool(boundPlan, io.log);
  try {
    await workers.start();
  } catch (error) {
    await workers.drain(0);
    throw error;
  }
  for (const server of servers) {
    if (server.listen.kind === 'unix') chmodSync(server.listen.path, server.listen.mode);
  }
  const bound = servers.map(describeBound);
  for (const server of bound) io.print(`serving ${server.root} at ${server.address}`);
  let shutdown: Promise<void> | undefined;
  return {
    servers: bound,
    workers,
    shutdown: () => {
      shutdown ??= (async () => {
        const { cutResponses } = await workers.drain(plan.shutdownGraceMs);
        if (cutResponses > 0) io.log(`shutdown: ${cutResponses} response(s) cut after the ${plan.shutdownGraceMs} ms grace period`);
        for (const server of servers) {
          if (server.listen.kind === 'unix') rmSync(server.listen.path, { force: true });
        }
      })();
      return shutdown;
    },
  };
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
