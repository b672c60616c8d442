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
      'Commands: `servers`; `clients`; `rate TARGET RATE[,BURST]`, TARGET `server` (the server-wide limit), a client ' +
      '(an IP address, or id:VALUE for a --client-id-header value), or `vhost:HOST` (a virtual host\'s own total; `vhost:HOST:client` each of its clients), RATE and BURST in --shape units; `clear CLIENT`; ' +
      '`schedule TARGET SCHEDULE`, TARGET also `clients` (every client, each from its first request) (steps such as 0s:4Mbit,30s:1Mbit,60s~4Mbit, or a file: a mahimahi, time_s Mbit/s or Sabre trace; ' +
      'looping unless --once); `unschedule TARGET`; `schedules`; `pause CLIENT MS` (holds a connected client back); ' +
      '`profile TARGET NAME` (a named network: rate and latency; NAME `off` takes it back); `profiles`; ' +
      '`fault TARGET FIELD=VALUE...`, TARGET `all` or a client, fields path=GLOB ttfb=MS stall=BYTES:MS cut=BYTES status=CODE share=0..1; ' +
      '`faults`; `unfault ID` (or `unfault all`).',
    examples: [
      ['A client down to 60 kB/s', 'mediacast ctl rate 127.0.0.2 60kB'],
      ['Back to the server limit', 'mediacast ctl clear 127.0.0.2'],
      ['The server to 4 Mbit/s', 'mediacast ctl rate server 4Mbit'],
      ['A client follows a cellular trace', 'mediacast ctl schedule 127.0.0.2 traces/Verizon-LTE-short.down'],
      ['Every client on Chrome\'s Slow 4G', 'mediacast ctl profile server slow-4g'],
      ['One segment in ten fails', "mediacast ctl fault all path='*.ts' status=503 share=0.1"],
      ['A client\'s segments stall after 64 kB for 3 s', "mediacast ctl fault 127.0.0.2 path='/v2/*' stall=64kB:3000"],
    ],
  });

  admin = Option.String('--admin', 'http://127.0.0.1:9090', { description: 'The control plane URL. Example: `--admin http://127.0.0.1:9090`' });
  token = Option.String('--token', { description: 'Bearer token (--admin-token of the server). Example: `--token s3cret`' });
  server = Option.String('--server', '0', { description: 'Which server, numbered from 0 as in `ctl servers`. Example: `--server 1`' });
  once = Option.Boolean('--once', false, { description: 'A schedule runs once (its last rate then holds) instead of looping. Example: `--once`' });
  clock = Option.String('--clock', 'apply', {
    description: 'When a schedule\'s clock starts: `apply` (now) or `first-request` (the target\'s next request). Example: `--clock first-request`',
  });
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
    const scheduled = (target: string): string =>
      target === 'server' ? `servers/${server}/schedule` : target === 'clients' ? `servers/${server}/clients/schedule` : `servers/${server}/clients/${encodeURIComponent(target)}/schedule`;
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
        if (target === 'server') return { method: 'PUT', path: `servers/${server}/rate`, body };
        // vhost:HOST (the host's total) or vhost:HOST:client (each of its clients).
        const vhost = /^vhost:([^:]+)(?::(client|server))?$/.exec(target);
        if (target.startsWith('vhost:') && !vhost) throw new CommandOptionError(`rate: "${target}" is not vhost:HOST or vhost:HOST:client`);
        if (vhost) return { method: 'PUT', path: `servers/${server}/vhosts/${encodeURIComponent(vhost[1]!)}/rate`, body: { ...body, level: vhost[2] ?? 'server' } };
        return { method: 'PUT', path: client(target), body };
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
        if (this.clock !== 'apply' && this.clock !== 'first-request') throw new CommandOptionError(`--clock: "${this.clock}" is not apply or first-request`);
        return { method: 'PUT', path: scheduled(target), body: { schedule: text, loop: !this.once, clock: this.clock } };
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
      case 'profile': {
        arity(2, 'TARGET NAME (e.g. profile 127.0.0.2 slow-3g; NAME off takes it back)');
        const [target, name] = args as [string, string];
        const path = target === 'server' ? `servers/${server}/profile` : `servers/${server}/clients/${encodeURIComponent(target)}/profile`;
        return name === 'off' ? { method: 'DELETE', path } : { method: 'PUT', path, body: { profile: name } };
      }
      case 'profiles':
        arity(0, 'no arguments');
        return { method: 'GET', path: 'profiles' };
      case 'fault': {
        if (args.length < 2) throw new CommandOptionError('fault: expected TARGET FIELD=VALUE... (e.g. fault all path=*.ts status=503 share=0.1)');
        const [target, ...fields] = args as [string, ...string[]];
        return { method: 'POST', path: `servers/${server}/faults`, body: { ...(target === 'all' ? {} : { client: target }), ...faultFields(fields) } };
      }
      case 'faults':
        arity(0, 'no arguments');
        return { method: 'GET', path: `servers/${server}/faults` };
      case 'unfault':
        arity(1, 'ID (from ctl faults), or all');
        return { method: 'DELETE', path: args[0] === 'all' ? `servers/${server}/faults` : `servers/${server}/faults/${encodeURIComponent(args[0]!)}` };
      case undefined:
        throw new CommandOptionError(`expected a command: ${COMMANDS}`);
      default:
        throw new CommandOptionError(`"${command}" is not a command (expected ${COMMANDS})`);
    }
  }
}

const COMMANDS = 'servers, clients, rate, clear, schedule, unschedule, schedules, pause, profile, profiles, fault, faults or unfault';

/** `path=GLOB ttfb=MS stall=BYTES:MS cut=BYTES status=CODE share=X` as the API's fault fields (it checks the values). */
function faultFields(fields: readonly string[]): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const seen = new Set<string>();
  for (const field of fields) {
    const at = field.indexOf('=');
    const [name, value] = at < 0 ? [field, ''] : [field.slice(0, at), field.slice(at + 1)];
    // A number when it reads as one (the API takes sizes as "64kB" too, and names what is wrong).
    const number = (text: string): number | string => (/^(?:\d+(?:\.\d*)?|\.\d+)$/.test(text) ? Number(text) : text);
    if (seen.has(name)) throw new CommandOptionError(`fault: ${name} is given twice`);
    seen.add(name);
    switch (name) {
      case 'path':
        body['path'] = value;
        break;
      case 'ttfb':
        body['ttfbMs'] = number(value);
        break;
      case 'stall': {
        const [after, ms, extra] = value.split(':');
        if (ms === undefined || extra !== undefined) throw new CommandOptionError(`fault: stall=${value}: expected BYTES:MS (e.g. stall=64kB:3000)`);
        body['stallAfter'] = number(after!);
        body['stallMs'] = number(ms);
        break;
      }
      case 'cut':
        body['cutAfter'] = number(value);
        break;
      case 'status':
        body['status'] = number(value);
        break;
      case 'share':
        body['share'] = number(value);
        break;
      default:
        throw new CommandOptionError(`fault: "${field}" is not FIELD=VALUE with FIELD path, ttfb, stall, cut, status or share`);
    }
    if (at < 0 || value === '') throw new CommandOptionError(`fault: ${name} needs a value (${name}=...)`);
  }
  return body;
}
