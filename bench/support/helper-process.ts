/**
 * A benchmark helper server (write-floor.ts) as a child process: started with
 * its arguments, ready once it prints `port N`, stopped by its PID.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export interface HelperProcess {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Starts `script` (a file beside this one, compiled) with `args` and waits for its port. */
export async function startHelper(script: string, args: readonly string[]): Promise<HelperProcess> {
  const child = spawn(process.execPath, [fileURLToPath(new URL(`./${script}`, import.meta.url)), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolvePort, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      const match = /port (\d+)/.exec(out);
      if (match) resolvePort(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}/`,
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
