/**
 * `mediacast ctl COMMAND`: the control plane's API from the command line (control/control-api.ts).
 * Exit status: 0, 1 when the server refused the request or could not be reached, 2 for a bad
 * command line.
 */
import { existsSync, readFileSync } from 'node:fs';
import { Command, Option } from 'clipanion';
import { request } from 'undici';
import { CommandOptionError, readOptions, wholeNumber } from '../config/command-values.js';

export class CtlCommand extends Command {
  static override paths = [['ctl']];

  static override usage = Command.Usage({
    description: 'Change limits of a running server (its --admin control plane).',
    details:
      'Commands: `servers`; `clients`; `rate TARGET RATE[,BURST]`, TARGET `server` (the server-wide limit) or a client ' +
      '(an IP address, or id:VALUE for a --client-id-header value), RATE and BURST in --shape units; `clear CLIENT`; ' +
      '`schedule TARGET SCHEDULE` (steps such as 0s:4Mbit,30s:1Mbit,60s~4Mbit, or a file: a mahimahi, time_s Mbit/s or Sabre trace; ' +
      'looping unless --once); `unschedule TARGET`; `schedules`; `pause CLIENT MS` (holds a connected client back).',
    examples: [
      ['A client down to 60 kB/s', 'mediacast ctl rate 127.0.0.2 60kB'],
      ['Back to the server limit', 'mediacast ctl clear 127.0.0.2'],
      ['The server to 4 Mbit/s', 'mediacast ctl rate server 4Mbit'],
      ['A client follows a cellular trace', 'mediacast ctl schedule 127.0.0.2 traces/Verizon-LTE-short.down'],
    ],
  });

  admin = Option.String('--admin', 'http://127.0.0.1:9090', { description: 'The control plane URL. Example: `--admin http://127.0.0.1:9090`' });
  token = Option.String('--token', { description: 'Bearer token (--admin-token of the server). Example: `--token s3cret`' });
  server = Option.String('--server', '0', { description: 'Which server, numbered from 0 as in `ctl servers`. Example: `--server 1`' });
  once = Option.Boolean('--once', false, { description: 'A schedule runs once (its last rate then holds) instead of looping. Example: `--once`' });
  words = Option.Rest();

  async execute(): Promise<number> {
    const { stdout, stderr } = this.context;
    const call = readOptions('ctl', stderr, () => this.#call());
    if (call === null) return 2;
    const url = new URL(call.path, this.admin.endsWith('/') ? this.admin : `${this.admin}/`);
    try {
      const response = await request(url, {
        method: call.method as 'GET',
        headers: { 'content-type': 'application/json', ...(this.token === undefined ? {} : { authorization: `Bearer ${this.token}` }) },
        ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
      });
      const text = await response.body.text();
      if (response.statusCode >= 400) {
        let message = text.trim();
        try {
          message = (JSON.parse(text) as { error?: string }).error ?? message;
        } catch {
          // Not ours: show it as it came.
        }
        stderr.write(`mediacast ctl: ${response.statusCode}: ${message}\n`);
        return 1;
      }
      stdout.write(text.endsWith('\n') ? text : `${text}\n`);
      return 0;
    } catch (error) {
      stderr.write(`mediacast ctl: cannot reach the control plane at ${url.origin} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); is the server started with --admin?\n`);
      return 1;
    }
  }

  #call(): { method: string; path: string; body?: unknown } {
    try {
      new URL(this.admin);
    } catch {
      throw new CommandOptionError(`--admin: "${this.admin}" is not a URL (expected e.g. http://127.0.0.1:9090)`);
    }
    const server = wholeNumber(this.server, '--server', 0, 1_000_000);
    const [command, ...args] = this.words;
    const arity = (n: number, usage: string): void => {
      if (args.length !== n) throw new CommandOptionError(`${command}: expected ${usage}`);
    };
    const client = (name: string): string => `servers/${server}/clients/${encodeURIComponent(name)}/rate`;
    const scheduled = (target: string): string => (target === 'server' ? `servers/${server}/schedule` : `servers/${server}/clients/${encodeURIComponent(target)}/schedule`);
    switch (command) {
      case 'servers':
        arity(0, 'no arguments');
        return { method: 'GET', path: 'servers' };
      case 'clients':
        arity(0, 'no arguments (--server picks the server)');
        return { method: 'GET', path: `servers/${server}/clients` };
      case 'rate': {
        arity(2, 'TARGET RATE[,BURST] (e.g. rate 127.0.0.2 60kB, or rate server 4Mbit,1MB)');
        const [target, limit] = args as [string, string];
        const [rate, burst, extra] = limit.split(',');
        if (extra !== undefined || rate === '') throw new CommandOptionError(`rate: "${limit}" is not RATE[,BURST] (e.g. 60kB or 60kB,16kB)`);
        const body = { rate, ...(burst === undefined ? {} : { burst }) };
        return target === 'server' ? { method: 'PUT', path: `servers/${server}/rate`, body } : { method: 'PUT', path: client(target), body };
      }
      case 'clear':
        arity(1, 'CLIENT (an IP address or id:VALUE)');
        return { method: 'DELETE', path: client(args[0]!) };
      case 'schedule': {
        arity(2, 'TARGET SCHEDULE (steps such as 0s:4Mbit,30s:1Mbit, or a trace file)');
        const [target, given] = args as [string, string];
        let text = given;
        if (existsSync(given)) {
          try {
            text = readFileSync(given, 'utf8');
          } catch (error) {
            throw new CommandOptionError(`schedule: cannot read ${given} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
          }
        }
        return { method: 'PUT', path: scheduled(target), body: { schedule: text, loop: !this.once } };
      }
      case 'unschedule':
        arity(1, 'TARGET (server, or a client)');
        return { method: 'DELETE', path: scheduled(args[0]!) };
      case 'schedules':
        arity(0, 'no arguments');
        return { method: 'GET', path: 'schedules' };
      case 'pause': {
        arity(2, 'CLIENT MS (e.g. pause 127.0.0.2 2000)');
        return { method: 'POST', path: `servers/${server}/clients/${encodeURIComponent(args[0]!)}/pause`, body: { ms: Number(args[1]) } };
      }
      case undefined:
        throw new CommandOptionError('expected a command: servers, clients, rate TARGET RATE[,BURST], clear CLIENT, schedule TARGET SCHEDULE, unschedule TARGET, schedules or pause CLIENT MS');
      default:
        throw new CommandOptionError(`"${command}" is not a command (expected servers, clients, rate, clear, schedule, unschedule, schedules or pause)`);
    }
  }
}
