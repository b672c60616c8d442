/**
 * The proxy upstreams, owned by the coordinator: each is checked for accepting TCP connections
 * (which resolves its name) at startup and on an interval, and every second while it is down,
 * including when a worker marked it down after a refused connection. Up or down is published in
 * shared memory, where every worker reads it before proxying; each change is logged once. A name
 * that does not resolve is reported, not fatal: DNS may come back.
 */
import { lookup } from 'node:dns/promises';
import { connect, isIP, type Socket } from 'node:net';
import type { UpstreamPlan } from '../../config/plan.js';
import { upstreamOrigin } from '../../config/proxy-spec.js';
import { UpstreamStates } from '../../handlers/proxy/upstream-states.js';
import type { Subsystem } from '../lifecycle.js';

/** A check that gets no connection within this time counts as down. */
const CHECK_TIMEOUT_MS = 2_000;
/** A down upstream is checked at least this often, so it comes back soon after it does. */
const DOWN_RECHECK_MS = 1_000;

export function upstreamRegistry(upstreams: readonly UpstreamPlan[], intervalMs: number, memory: SharedArrayBuffer, log: (line: string) => void): Subsystem {
  const states = new UpstreamStates(memory);
  /** What was last logged per upstream (a worker may mark one down in between). */
  const reported = upstreams.map(() => false);
  const lastCheck = upstreams.map(() => 0);
  const probes = new Set<Socket>();
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  const report = (upstream: UpstreamPlan, down: boolean, why: string): void => {
    if (reported[upstream.id] === down) return;
    reported[upstream.id] = down;
    log(
      down
        ? `upstream ${upstreamOrigin(upstream)} is down (${why}): its requests get 502 until it accepts connections again`
        : `upstream ${upstreamOrigin(upstream)} is up again`,
    );
  };

  const inFlight = upstreams.map(() => false);
  const check = async (upstream: UpstreamPlan): Promise<void> => {
    inFlight[upstream.id] = true;
    lastCheck[upstream.id] = performance.now();
    try {
      const failure = await connectFailure(upstream.host, upstream.port, probes);
      if (stopped) return;
      states.set(upstream.id, failure !== null);
      report(upstream, failure !== null, failure ?? '');
    } finally {
      inFlight[upstream.id] = false;
    }
  };

  /**
   * Every tick: each upstream that is down (or that a worker just marked down) is checked, the
   * others when due; each on its own, so a host that takes the whole timeout delays nobody else.
   */
  const tick = (): void => {
    const now = performance.now();
    for (const upstream of upstreams) {
      if (inFlight[upstream.id]) continue;
      const down = states.isDown(upstream.id);
      if (down) report(upstream, true, 'a connection from a worker was refused');
      if (down || now - lastCheck[upstream.id]! >= intervalMs) {
        check(upstream).catch((error: unknown) => log(`upstream check of ${upstreamOrigin(upstream)} failed: ${String(error)}`));
      }
    }
  };

  return {
    name: 'proxy upstreams',
    async start() {
      if (intervalMs === 0) {
        // No checks: a name that does not resolve now is worth a warning (DNS may come back).
        await Promise.all(
          upstreams.map(async (upstream) => {
            if (isIP(upstream.host) !== 0) return;
            try {
              await lookup(upstream.host);
            } catch (error) {
              log(`warning: upstream ${upstreamOrigin(upstream)}: the name does not resolve now (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
            }
          }),
        );
        return;
      }
      // The first checks run before serving starts, so the first requests see the real state.
      await Promise.all(upstreams.map(check));
      if (stopped) return;
      timer = setInterval(tick, Math.min(intervalMs, DOWN_RECHECK_MS));
      timer.unref();
    },
    async stop() {
      stopped = true;
      if (timer !== null) clearInterval(timer);
      for (const probe of probes) probe.destroy();
    },
  };
}

/** Null when a TCP connection to host:port opens within the timeout, else why not. */
function connectFailure(host: string, port: number, probes: Set<Socket>): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    probes.add(socket);
    let settled = false;
    const done = (failure: string | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      probes.delete(socket);
      socket.destroy();
      resolve(failure);
    };
    socket.once('close', () => done('the check was stopped'));
    const timer = setTimeout(() => done(`no connection within ${CHECK_TIMEOUT_MS / 1000} s`), CHECK_TIMEOUT_MS);
    timer.unref();
    socket.once('connect', () => done(null));
    socket.once('error', (error: NodeJS.ErrnoException) => done(`connect ${error.code ?? error.message}`));
  });
}
