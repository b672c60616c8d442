/**
 * `mediacast [serve] [options]`: the seed-compatible server command. Clipanion parses and
 * documents the options; their order, which decides what each option applies to, is kept and
 * handed to the argv-order resolver.
 */
import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Command, Option } from 'clipanion';
import { resolveArgv, type GivenOption, type PathKind } from '../config/argv-plan.js';
import { ConfigError, StartupError } from '../config/errors.js';
import { SERVE_OPTIONS } from '../config/option-table.js';
import { startServer } from '../coordinator/server.js';

/** Exit statuses: 0 clean shutdown, 1 environment refused, 2 bad command line. */
export const EXIT_OK = 0;
export const EXIT_STARTUP = 1;
export const EXIT_USAGE = 2;

export class ServeCommand extends Command {
  static override paths = [['serve'], Command.Default];

  static override usage = Command.Usage({
    description: 'Serve a media library with per-server and per-client bandwidth shaping.',
    details: `
      Options apply in order: each one configures the server declared most recently before it.
      Every option below shows an example.
    `,
    examples: [
      ['Serve the current directory on port 8080', '$0'],
      ['Serve ./media on 127.0.0.1:9000 with CORS', '$0 --path ./media -p tcp:9000:interface=127.0.0.1 --cors'],
      ['Serve over TLS', '$0 --path ./media -p ssl:8443:privateKey=key.pem:certKey=cert.pem'],
    ],
  });

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
    let plan;
    try {
      plan = resolveArgv(this.given, { cwd: process.cwd(), defaultWorkers: availableParallelism(), statPath });
    } catch (error) {
      if (error instanceof ConfigError) {
        stderr.write(`mediacast: ${error.message}\n`);
        return EXIT_USAGE;
      }
      throw error;
    }
    const io = { print: (line: string) => stdout.write(`${line}\n`), log: (line: string) => stderr.write(`${line}\n`) };
    let server;
    try {
      server = await startServer(plan, io);
    } catch (error) {
      if (error instanceof StartupError) {
        stderr.write(`mediacast: ${error.message}\n`);
        return EXIT_STARTUP;
      }
      throw error;
    }
    io.print(`${plan.workers} worker${plan.workers === 1 ? '' : 's'}; press Ctrl-C to stop`);
    await new Promise<void>((resolveSignal) => {
      const onSignal = (signal: NodeJS.Signals): void => {
        io.log(`${signal}: finishing in-flight responses (up to ${plan.shutdownGraceMs / 1000} s)`);
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        resolveSignal();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    });
    await server.shutdown();
    return EXIT_OK;
  }
}

function statPath(path: string): PathKind {
  try {
    const stats = statSync(path);
    return stats.isDirectory() ? 'directory' : stats.isFile() ? 'file' : 'other';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EACCES' ? 'unreadable' : 'missing';
  }
}
