/**
 * nginx as the reference server for side-by-side benchmarks: detected at run time, started with
 * a generated config in a temp prefix (one worker, sendfile on, access log off), stopped by PID.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeTcpPort } from '../../src/coordinator/listen-checks.js';

export interface NginxOptions {
  /** Document root. */
  readonly root: string;
  /** `limit_rate` in bytes/s per connection, for shaping comparisons. */
  readonly limitRate?: number;
  /** Extra directives inside the server block. */
  readonly serverDirectives?: string;
  /** Extra directives at the http level (upstream blocks). */
  readonly httpDirectives?: string;
}

export interface RunningNginx {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** The nginx binary, or null when it is not installed. */
export function findNginx(): string | null {
  for (const candidate of ['nginx', '/usr/sbin/nginx', '/usr/local/sbin/nginx']) {
    if (spawnSync(candidate, ['-v'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  return null;
}

export async function startNginx(binary: string, options: NginxOptions): Promise<RunningNginx> {
  const prefix = mkdtempSync(join(tmpdir(), 'mediacast-nginx-'));
  for (const dir of ['logs', 'tmp']) mkdirSync(join(prefix, dir));
  const port = await probeTcpPort({ kind: 'tcp', port: 0, host: '127.0.0.1' });
  const temp = join(prefix, 'tmp');
  writeFileSync(
    join(prefix, 'nginx.conf'),
    `worker_processes 1;
daemon off;
master_process on;
pid ${join(prefix, 'nginx.pid')};
error_log ${join(prefix, 'logs', 'error.log')} warn;
events { worker_connections 8192; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000000;
  client_body_temp_path ${temp}/body;
  proxy_temp_path ${temp}/proxy;
  fastcgi_temp_path ${temp}/fastcgi;
  uwsgi_temp_path ${temp}/uwsgi;
  scgi_temp_path ${temp}/scgi;
  types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; text/plain txt; }
  default_type application/octet-stream;
  ${options.httpDirectives ?? ''}
  server {
    listen 127.0.0.1:${port};
    root ${options.root};
    ${options.limitRate ? `limit_rate ${options.limitRate};` : ''}
    ${options.serverDirectives ?? ''}
  }
}
`,
  );
  const child: ChildProcess = spawn(binary, ['-p', prefix, '-c', join(prefix, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d));
  await waitForPort(port, child, () => stderr);
  return {
    url: `http://127.0.0.1:${port}/`,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGQUIT');
        await once(child, 'exit');
      }
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}

async function waitForPort(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr()}`);
    const up = await new Promise<boolean>((resolveUp) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolveUp(true);
      });
      socket.on('error', () => resolveUp(false));
    });
    if (up) return;
    await new Promise((resolveTick) => setTimeout(resolveTick, 50));
  }
  throw new Error('nginx did not start listening within 10 s');
}
