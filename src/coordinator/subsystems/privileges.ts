/**
 * The step after every port is open: unix sockets get their mode, then (started as root with
 * --run-as) the process switches accounts, dead workers stop being replaced (they could not
 * listen again) and the held workers start answering. Nothing to undo on stop.
 */
import { chmodSync } from 'node:fs';
import type { ServerPlan } from '../../config/plan.js';
import type { Subsystem } from '../lifecycle.js';
import { dropPrivileges, runningAsRoot, type Identity } from '../privileges.js';
import type { WorkerPool } from '../worker-pool.js';

export function privilegesStep(servers: readonly ServerPlan[], identity: Identity | null, workers: WorkerPool, log: (line: string) => void): Subsystem {
  return {
    name: 'privileges',
    async start() {
      for (const server of servers) {
        if (server.listen.kind === 'unix') chmodSync(server.listen.path, server.listen.mode);
      }
      if (identity !== null && runningAsRoot()) {
        dropPrivileges(identity);
        workers.stopRestarting(`after --run-as a new listener cannot join the ports root's sockets hold`);
        workers.release();
      } else if (runningAsRoot()) {
        log('warning: serving as root: every file root can read is one symlink or bug away; use --run-as USER to drop privileges');
      }
    },
    async stop() {},
  };
}
