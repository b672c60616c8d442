/** At shutdown, once the workers are gone: how much each shaped server sent, in how many writes. */
import type { ServerPlan } from '../../config/plan.js';
import { formatInteger } from '../../config/rate-units.js';
import { describeListen } from '../../config/strport.js';
import { readTotals } from '../../stats/shaping-stats.js';
import type { Subsystem } from '../lifecycle.js';

export function shapingTotals(servers: readonly ServerPlan[], stats: SharedArrayBuffer, workers: number, print: (line: string) => void): Subsystem {
  return {
    name: 'shaping totals',
    async start() {},
    async stop() {
      for (const server of servers) {
        if (!server.shape && !server.vhosts.some((vhost) => vhost.shape)) continue;
        const totals = readTotals(stats, server.id, workers);
        const perWrite = totals.writes === 0 ? 0 : totals.bytes / totals.writes;
        print(
          `${describeListen(server.listen)}: shaped ${formatInteger(totals.bytes)} B in ${formatInteger(totals.writes)} writes ` +
            `(${formatInteger(perWrite)} B per write)`,
        );
      }
    },
  };
}
