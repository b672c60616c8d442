/**
 * Rate schedules in the coordinator: the servers' startup schedules (--shape-schedule) and those
 * the control plane sets, applied every tick by one runner (control/schedule-runner.ts).
 */
import type { ServerPlan } from '../../config/plan.js';
import { describeListen } from '../../config/strport.js';
import { ScheduleRunner } from '../../control/schedule-runner.js';
import type { ControlledServer } from '../../control/controlled-server.js';
import type { Subsystem } from '../lifecycle.js';

/** Schedules (a step, a ramp, a trace's 100-ms bins) are applied this often. */
const SCHEDULE_TICK_MS = 50;

export function rateSchedules(servers: readonly ControlledServer[], io: { print(line: string): void; log(line: string): void }): Subsystem & { readonly runner: ScheduleRunner } {
  const runner = new ScheduleRunner(servers);
  let ticker: NodeJS.Timeout | null = null;
  return {
    name: 'rate schedules',
    runner,
    async start() {
      for (const server of servers) startupSchedule(runner, server.plan, io.print);
      ticker = setInterval(() => {
        try {
          runner.tick();
        } catch (error) {
          io.log(`applying rate schedules: ${(error as Error).message}`);
        }
      }, SCHEDULE_TICK_MS);
    },
    async stop() {
      if (ticker !== null) clearInterval(ticker);
      ticker = null;
    },
  };
}

function startupSchedule(runner: ScheduleRunner, plan: ServerPlan, print: (line: string) => void): void {
  const given = plan.shapeSchedule;
  if (given === null) return;
  runner.set(plan.id, given.target, given.schedule, given.loop);
  const what = given.target === 'server' ? 'the server-wide limit' : 'each client\'s limit (from its first request)';
  print(`${describeListen(plan.listen)}: ${what} follows ${given.spec} (${given.schedule.format}, ${given.schedule.lengthMs / 1000} s, ${given.loop ? 'looping' : 'once'})`);
}
