/**
 * The command line interface, loaded by the `mediacast` executable (mediacast.cts). The only place that calls process.exit: usage errors exit 2 with
 * one line, startup failures exit 1, a clean shutdown exits 0.
 */
import { Builtins, Cli, Command } from 'clipanion';
import { VERSION } from '../version.js';
import { renderHelp } from './manual.js';
import { parseArgv } from './getopt.js';
import { EXIT_USAGE, ServeCommand } from './serve-command.js';
import { LoadCommand } from './load-command.js';
import { BenchCommand } from './bench-command.js';
import { CtlCommand } from './ctl-command.js';


/** `--help` only (the original server uses `-h` for --host): the manual made from the option table. */
class HelpCommand extends Command {
  static override paths = [['--help']];

  async execute(): Promise<number> {
    this.context.stdout.write(renderHelp(VERSION));
    return 0;
  }
}

/** `--version` only: the seed uses `-v` for --vhost. */
class VersionCommand extends Builtins.VersionCommand {
  static override paths = [['--version']];
}

export function createCli(): Cli {
  const cli = new Cli({
    binaryLabel: 'Mediacast Server',
    binaryName: 'mediacast',
    binaryVersion: VERSION,
    enableColors: Boolean(process.stdout.isTTY),
  });
  cli.register(ServeCommand);
  cli.register(LoadCommand);
  cli.register(BenchCommand);
  cli.register(CtlCommand);
  cli.register(HelpCommand);
  cli.register(VersionCommand);
  return cli;
}

async function main(argv: string[]): Promise<number> {
  const cli = createCli();
  // Subcommands other than serve take their own options, read by clipanion as they are.
  const parsed = argv[0] === 'load' || argv[0] === 'bench' || argv[0] === 'ctl' ? { ok: true as const, argv } : parseArgv(argv);
  let command;
  try {
    if (!parsed.ok) throw new Error(parsed.message);
    command = cli.process(parsed.argv);
  } catch (error) {
    // Clipanion explains over several lines; the first one says what is wrong.
    const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
    process.stderr.write(`mediacast: ${reason} (see mediacast --help)\n`);
    return EXIT_USAGE;
  }
  return cli.run(command);
}

process.exitCode = await main(process.argv.slice(2));
// Everything has stopped; a handle some library left open (a socket bound while shutting down)
// must not keep the process alive. Unref'd: a process with nothing left exits before it fires.
setTimeout(() => process.exit(), 1000).unref();
