/**
 * Upstream origins for proxy tests: node:http (or https) servers on loopback whose behaviour each
 * test chooses, recording what reached them (paths, headers, connections).
 */
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

export interface Origin {
  readonly port: number;
  /** Requests received, in order. */
  readonly requests: IncomingMessage[];
  /** TCP connections accepted so far. */
  connections: number;
  /** Connections currently open. */
  readonly open: Set<Socket>;
  close(): Promise<void>;
}

export type OriginHandler = (req: IncomingMessage, res: ServerResponse) => void;

export async function startOrigin(handler: OriginHandler, options: { host?: string; port?: number; tls?: { key: Buffer; cert: Buffer } } = {}): Promise<Origin> {
  const requests: IncomingMessage[] = [];
  const open = new Set<Socket>();
  const server: Server = options.tls ? createHttps({ key: options.tls.key, cert: options.tls.cert }) : createHttp();
  server.keepAliveTimeout = 10_000;
  const origin = {
    port: 0,
    requests,
    connections: 0,
    open,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
  server.on(options.tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    origin.connections++;
    open.add(socket);
    socket.on('close', () => open.delete(socket));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    requests.push(req);
    handler(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  origin.port = (server.address() as AddressInfo).port;
  return origin;
}

/** Reads a request body whole (test origins only: bodies here are small or hashed as they come). */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
