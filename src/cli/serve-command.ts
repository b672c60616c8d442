/**
 * `mediacast [serve] [options]`: the seed-compatible server command. Clipanion parses and
 * documents the options; their order, which decides what each option applies to, is kept and
 * handed to the argv-order resolver.
 */
import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Command, Option } from 'clipanion';
import { resolve } from 'node:path';
import { applyArgv, type GivenOption } from '../config/argv-plan.js';
import { loadConfigFile } from '../config/config-file.js';
import { planToDocument } from '../config/config-print.js';
import { buildPlan, newDraft, type PathKind } from '../config/draft.js';
import { ConfigError, StartupError } from '../config/errors.js';
import { SERVE_OPTIONS } from '../config/option-table.js';
import type { Plan } from '../config/plan.js';
import { startServer } from '../coordinator/server.js';

/** Exit statuses: 0 clean shutdown, 1 environment refused, 2 bad command line. */
export const EXIT_OK = 0;
export const EXIT_STARTUP = 1;
export const EXIT_USAGE = 2;

export class ServeCommand extends Command {
  static override paths = [['serve'], Command.Default];

  /** Every option occurrence, in command-line order. */
  given: GivenOption[] = Option.makeCommandOption<GivenOption[]>({
    definition(builder) {
      for (const spec of SERVE_OPTIONS) {
        builder.addOption({
          names: [...spec.names],
          description: spec.description,
          arity: spec.takesValue ? 1 : 0,
          hidden: false,
          required: false,
          allowBinding: spec.takesValue,
        });
      }
    },
    transformer(_builder, _key, state) {
      return state.options.map(({ name, value }) => ({ name, value: value as string | boolean }));
    },
  });

  async execute(): Promise<number> {
    const { stdout, stderr } = this.context;
    let plan: Plan;
    try {
      plan = this.#plan();
    } catch (error) {
      if (error instanceof ConfigError) {
        stderr.write(`mediacast: ${error.message}\n`);
        return EXIT_USAGE;
      }
      throw error;
    }
    if (this.given.some((g) => g.name === '--print-config' && g.value === true)) {
      stdout.write(`${JSON.stringify(planToDocument(plan), null, 2)}\n`);
      return EXIT_OK;
    }
    // With the access log on standard output (-l -), status lines go to standard error.
    const status = plan.logfile === '-' ? stderr : stdout;
    const io = { print: (line: string) => status.write(`${line}\n`), log: (line: string) => stderr.write(`${line}\n`) };
    // Listening before startup: a stop signal that arrives while the workers start (or just after the
    // ready line, before the handlers would otherwise exist) still gets an orderly shutdown.
    const stopSignal = listenForStopSignal();
    // Log rotation: after the file was moved away, SIGHUP makes the server write a new one. Handled
    // from the start and through the drain: without a handler, SIGHUP would kill the process.
    let server: Awaited<ReturnType<typeof startServer>> | undefined;
    const onHangup = (): void => server?.reopenLog();
    process.on('SIGHUP', onHangup);
    try {
      try {
        server = await startServer(plan, io);
      } catch (error) {
        stopSignal.dispose();
        if (error instanceof StartupError) {
          stderr.write(`mediacast: ${error.message}\n`);
          return EXIT_STARTUP;
        }
        throw error;
      }
      io.print(`${plan.workers} worker${plan.workers === 1 ? '' : 's'}; press Ctrl-C to stop`);
      const workers = server.workers;
      const lost = new Promise<'lost'>((resolveLost) => workers.once('empty', () => resolveLost('lost')));
      const reason = await Promise.race([stopSignal.received, lost]);
      if (reason === 'lost') {
        stopSignal.dispose();
        io.log('no worker is left to serve; exiting so that a supervisor can start the server again');
        await server.shutdown();
        return EXIT_STARTUP;
      }
      io.log(`${reason}: finishing in-flight responses (up to ${plan.shutdownGraceMs / 1000} s)`);
      await server.shutdown();
      return EXIT_OK;
    } finally {
      process.off('SIGHUP', onHangup);
    }
  }

  /** The config file (if any), then the command line in order, into a plan. */
  #plan(): Plan {
    const cwd = process.cwd();
    const configs = this.given.filter((g) => g.name === '--config');
    if (configs.length > 1) throw new ConfigError('E_CONFLICT', '--config', 'given more than once');
    const config = configs[0];
    const draft = config ? loadConfigFile(resolve(cwd, String(config.value))) : newDraft();
    applyArgv(draft, this.given, cwd);
    return buildPlan(draft, { cwd, defaultWorkers: availableParallelism(), statPath });
  }
}

/** What a path on disk is, for the plan builder. */
export function statPath(path: string): PathKind {
  try {
    const stats = statSync(path);
    return stats.isDirectory() ? 'directory' : stats.isFile() ? 'file' : 'other';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EACCES' ? 'unreadable' : 'missing';
  }
}

/** The first SIGINT or SIGTERM; the handlers are removed once it came (a second one kills). */
function listenForStopSignal(): { received: Promise<NodeJS.Signals>; dispose(): void } {
  let onSignal: (signal: NodeJS.Signals) => void = () => {};
  const dispose = (): void => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  const received = new Promise<NodeJS.Signals>((resolveSignal) => {
    onSignal = (signal) => {
      dispose();
      resolveSignal(signal);
    };
  });
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return { received, dispose };
}
