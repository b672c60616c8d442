/**
 * Runs the real `mediacast` executable as a child process on an ephemeral loopback port and
 * waits for its startup lines.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../src/cli/mediacast.cjs', import.meta.url));
export const DEMO_MEDIA = fileURLToPath(new URL('../../../src/demo-media', import.meta.url));

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** URLs of the listening servers, in plan order (`http://127.0.0.1:PORT/`). */
  readonly urls: string[];
  readonly url: string;
  stdout(): string;
  stderr(): string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** The control plane's URL a server started with `--admin` printed; throws when it printed none. */
export function adminUrl(server: ServerProcess): string {
  const url = /control plane at (\S+)/.exec(server.stdout())?.[1];
  if (url === undefined) throw new Error(`no control plane in the startup output: ${server.stdout()}`);
  return url;
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI to completion (for option errors, --help...). */
export async function runCli(args: readonly string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 15_000);
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/**
 * Starts the server with `args` (add `-p tcp:0:interface=127.0.0.1` yourself or let
 * `loopbackPort` do it) and resolves once every server printed its address.
 */
export async function startCli(
  args: readonly string[],
  options: { servers?: number; cwd?: string; loopbackPort?: boolean; env?: NodeJS.ProcessEnv; descriptorLimit?: number; netns?: string } = {},
): Promise<ServerProcess> {
  const expected = options.servers ?? 1;
  const fullArgs = options.loopbackPort === false ? [...args] : ['-p', 'tcp:0:interface=127.0.0.1', ...args];
  // `exec` keeps the pid: the shell becomes the server.
  const [command, commandArgs] =
    options.netns !== undefined
      ? ['ip', ['netns', 'exec', options.netns, process.execPath, CLI, ...fullArgs]]
      : options.descriptorLimit === undefined
        ? [process.execPath, [CLI, ...fullArgs]]
        : ['/bin/sh', ['-c', `ulimit -n ${options.descriptorLimit} && exec "$0" "$@"`, process.execPath, CLI, ...fullArgs]];
  const child = spawn(command, commandArgs, {
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: options.env ?? process.env,
  });
  let stdout = '';
  let stderr = '';
  const urls = await new Promise<string[]>((resolveUrls, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start in time\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, 20_000);
    // Status lines are on stdout, or on stderr when stdout carries the access log (-l -).
    const check = (): void => {
      const status = `${stdout}\n${stderr}`;
      const found = [...status.matchAll(/^serving .* at (\S+)(?: \(.*\))?$/gm)].map((m) => m[1]!);
      if (found.length >= expected && /worker/.test(status)) {
        clearTimeout(timer);
        resolveUrls(found);
      }
    };
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
      check();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
      check();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} during startup\nstdout: ${stdout}\nstderr: ${stderr}`));
    });
  });
  // 'close' (not 'exit') so everything the child wrote has been read.
  const exited = once(child, 'close') as Promise<[number | null]>;
  return {
    child,
    pid: child.pid!,
    urls,
    url: urls[0]!,
    stdout: () => stdout,
    stderr: () => stderr,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const [code] = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
