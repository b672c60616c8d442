/**
 * The control plane's listener (`--admin`): a small HTTP server in the coordinator (node:http:
 * a few requests a second at most, never on the media path) that checks the bearer token and
 * hands each request to control/control-api.ts. Bodies are capped; answers are JSON.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { timingSafeEqual, createHash } from 'node:crypto';
import { StartupError, StartupErrorCode } from '../../config/errors.js';
import type { AdminPlan } from '../../config/plan.js';
import { describeListen } from '../../config/strport.js';
import { handleControl, type ControlledServer } from '../../control/control-api.js';
import { ScheduleRunner } from '../../control/schedule-runner.js';
import type { Subsystem } from '../lifecycle.js';

/** Schedules (a step, a ramp, a trace's 100-ms bins) are applied this often. */
const SCHEDULE_TICK_MS = 50;
const MAX_BODY_BYTES = 16 * 1024 * 1024;
// (Traces are large: ten minutes of a mahimahi trace at 10 Mbit/s is some 3 MB.)

export function adminListener(plan: AdminPlan, servers: readonly ControlledServer[], io: { print(line: string): void; log(line: string): void }): Subsystem {
  let server: Server | null = null;
  const schedules = new ScheduleRunner(servers);
  let ticker: NodeJS.Timeout | null = null;
  const expected = plan.token === null ? null : digest(`Bearer ${plan.token}`);
  const answer = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    const text = `${JSON.stringify(body, null, 2)}\n`;
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
    res.end(text);
  };
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    // Compared as digests: equal length, constant time.
    if (expected !== null && !timingSafeEqual(digest(req.headers.authorization ?? ''), expected)) {
      return answer(res, 401, { error: 'expected Authorization: Bearer TOKEN (--admin-token)' }, { 'www-authenticate': 'Bearer realm="mediacast"' });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        answer(res, 413, { error: `the body is over ${MAX_BODY_BYTES} bytes` }, { connection: 'close' });
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (res.headersSent) return;
      try {
        const { status, body } = handleControl(servers, schedules, req.method ?? 'GET', req.url ?? '/', Buffer.concat(chunks).toString('utf8'));
        answer(res, status, body);
      } catch (error) {
        io.log(`control plane: ${req.method} ${req.url}: ${(error as Error).message}`);
        answer(res, 500, { error: 'internal error (see the server log)' });
      }
    });
    req.on('error', () => res.destroy());
  };
  return {
    name: 'control plane',
    async start() {
      const listen = plan.listen;
      const created = listen.kind === 'ssl' ? createHttpsServer({ key: readFileSync(listen.privateKey), cert: readFileSync(listen.certKey) }, handle) : createHttpServer(handle);
      created.headersTimeout = 10_000;
      created.requestTimeout = 10_000;
      await new Promise<void>((resolve, reject) => {
        created.once('error', (error: NodeJS.ErrnoException) =>
          reject(new StartupError(error.code === 'EADDRINUSE' ? StartupErrorCode.PortInUse : StartupErrorCode.ListenFailed, `--admin ${describeListen(listen)}: ${error.message}`)),
        );
        if (listen.kind === 'unix') created.listen(listen.path, resolve);
        else created.listen(listen.port, listen.host, resolve);
      });
      created.on('error', (error) => io.log(`control plane: ${error.message}`));
      server = created;
      ticker = setInterval(() => {
        try {
          schedules.tick();
        } catch (error) {
          io.log(`control plane: applying schedules: ${(error as Error).message}`);
        }
      }, SCHEDULE_TICK_MS);
      const address = created.address();
      const port = typeof address === 'object' && address !== null ? address.port : undefined;
      io.print(`control plane at ${describeListen(listen, port)}${plan.token === null ? '' : ' (bearer token required)'}`);
    },
    async stop() {
      if (ticker !== null) clearInterval(ticker);
      ticker = null;
      const running = server;
      if (running === null) return;
      server = null;
      running.closeAllConnections();
      await new Promise<void>((resolve) => running.close(() => resolve()));
    },
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
