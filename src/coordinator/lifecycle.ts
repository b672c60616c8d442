/**
 * The coordinator as a lifecycle of subsystems (access log, workers, privileges, reports, mDNS,
 * and whatever comes next): each starts and stops; startup runs them in order, and a failure
 * part-way stops what already started, in reverse; shutdown runs in reverse too, against one
 * deadline shared by all. Adding a subsystem is one module and one entry in the list.
 */

export interface Subsystem {
  /** For messages: "access log", "workers", "mdns". */
  readonly name: string;
  /** Brings it up; a rejection aborts startup (a StartupError says why in one line). */
  start(): Promise<void>;
  /** Takes it down by `deadline` (a performance.now() instant). Called once, only after start() resolved. */
  stop(deadline: number): Promise<void>;
}

/** Subsystems that started, to stop together. */
export interface Running {
  /** Stops every subsystem in reverse order within `graceMs`. Idempotent. */
  stop(graceMs: number): Promise<void>;
}

/** Starts `subsystems` in order; on a failure stops the started ones (at once) and rethrows. */
export async function startInOrder(subsystems: readonly Subsystem[], log: (line: string) => void): Promise<Running> {
  const started: Subsystem[] = [];
  const stopAll = async (deadline: number): Promise<void> => {
    for (const subsystem of [...started].reverse()) {
      try {
        await subsystem.stop(deadline);
      } catch (error) {
        // One that fails to stop must not keep the others running.
        log(`stopping the ${subsystem.name}: ${(error as Error).message}`);
      }
    }
  };
  for (const subsystem of subsystems) {
    try {
      await subsystem.start();
    } catch (error) {
      await stopAll(performance.now());
      throw error;
    }
    started.push(subsystem);
  }
  let stopping: Promise<void> | undefined;
  return {
    stop: (graceMs) => (stopping ??= stopAll(performance.now() + graceMs)),
  };
}

/** Milliseconds left until `deadline`, never negative. */
export function remaining(deadline: number): number {
  return Math.max(0, deadline - performance.now());
}
