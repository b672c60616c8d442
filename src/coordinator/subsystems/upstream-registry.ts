/**
 * The proxy upstreams, owned by the coordinator: their names are resolved at startup (a name
 * that does not resolve is reported, not fatal: DNS may come back), and every upstream is checked
 * for accepting TCP connections on an interval. Up or down is published in shared memory, where
 * every worker reads it before proxying; each change is logged once.
 */
import { lookup } from 'node:dns/promises';
import { connect, isIP } from 'node:net';
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
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;

  const check = async (upstream: UpstreamPlan): Promise<void> => {
    const failure = await connectFailure(upstream.host, upstream.port);
    if (stopped) return;
    const down = failure !== null;
    if (states.set(upstream.id, down)) {
      log(
        down
          ? `upstream ${upstreamOrigin(upstream)} is down (${failure}): its requests get 502 until it accepts connections again`
          : `upstream ${upstreamOrigin(upstream)} is up again`,
      );
    }
  };

  const schedule = (upstream: UpstreamPlan): void => {
    // A worker may have marked it down meanwhile (a refused connection): recheck soon then.
    const delay = states.isDown(upstream.id) ? Math.min(intervalMs, DOWN_RECHECK_MS) : intervalMs;
    const timer = setTimeout(() => {
      timers.delete(timer);
      void check(upstream).finally(() => {
        if (!stopped) schedule(upstream);
      });
    }, delay);
    timer.unref();
    timers.add(timer);
  };

  return {
    name: 'proxy upstreams',
    async start() {
      await Promise.all(
        upstreams.map(async (upstream) => {
          // With checks on, the first check reports a name that does not resolve.
          if (intervalMs === 0 && isIP(upstream.host) === 0) {
            try {
              await lookup(upstream.host);
            } catch (error) {
              log(`warning: upstream ${upstreamOrigin(upstream)}: the name does not resolve now (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
            }
          }
          if (intervalMs > 0) {
            await check(upstream);
            schedule(upstream);
          }
        }),
      );
    },
    async stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}

/** Null when a TCP connection to host:port opens within the timeout, else why not. */
function connectFailure(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (failure: string | null): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(failure);
    };
    const timer = setTimeout(() => done(`no connection within ${CHECK_TIMEOUT_MS / 1000} s`), CHECK_TIMEOUT_MS);
    socket.once('connect', () => done(null));
    socket.once('error', (error: NodeJS.ErrnoException) => done(`connect ${error.code ?? error.message}`));
  });
}
