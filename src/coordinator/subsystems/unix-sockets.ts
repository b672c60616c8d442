/** Unix socket files of the plan: removed once the workers that listened on them are gone. */
import { rmSync } from 'node:fs';
import type { ServerPlan } from '../../config/plan.js';
import type { Subsystem } from '../lifecycle.js';

export function unixSocketFiles(servers: readonly ServerPlan[], log: (line: string) => void): Subsystem {
  return {
    name: 'unix sockets',
    async start() {},
    async stop() {
      for (const server of servers) {
        if (server.listen.kind !== 'unix') continue;
        try {
          rmSync(server.listen.path, { force: true });
        } catch (error) {
          // After --run-as the socket's directory may not be ours to change.
          log(`shutdown: cannot remove unix:${server.listen.path}: ${(error as Error).message}`);
        }
      }
    },
  };
}
