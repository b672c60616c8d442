/**
 * HTTP clients for tests: `rawGet` writes a request target byte for byte over a socket (fetch
 * normalises `..` and rejects what attackers send), `get` wraps node:http for headers-level checks.
 */
import { request } from 'node:http';
import { connect } from 'node:net';

export interface SimpleResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

/** Sends `METHOD target HTTP/1.1` exactly as given, with `Connection: close`, and parses the reply. */
export function rawRequest(
  baseUrl: string,
  target: string | Buffer,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<SimpleResponse> {
  const url = new URL(baseUrl);
  const headerLines = Object.entries({ Host: url.host, Connection: 'close', ...options.headers })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  const head = Buffer.concat([
    Buffer.from(`${options.method ?? 'GET'} `),
    typeof target === 'string' ? Buffer.from(target, 'latin1') : target,
    Buffer.from(` HTTP/1.1\r\n${headerLines}\r\n`),
  ]);
  return new Promise((resolveResponse, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.write(head));
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.setTimeout(10_000, () => socket.destroy(new Error('raw request timed out')));
    socket.on('error', reject);
    socket.on('end', () => {
      try {
        resolveResponse(parseResponse(Buffer.concat(chunks), options.method === 'HEAD'));
      } catch (error) {
        reject(error);
      }
    });
  });
}

function parseResponse(data: Buffer, head: boolean): SimpleResponse {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) throw new Error(`incomplete response: ${data.toString('latin1').slice(0, 200)}`);
  const lines = data.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(lines[0]!.split(' ')[1]);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  const body = head ? Buffer.alloc(0) : data.subarray(end + 4);
  return { status, headers, body };
}

/** A request through node:http (keeps what fetch hides, such as HEAD bodies and raw headers). */
export function get(
  url: string,
  options: { method?: string; headers?: Record<string, string>; localAddress?: string } = {},
): Promise<SimpleResponse> {
  return new Promise((resolveResponse, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers, localAddress: options.localAddress }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : (v ?? '');
        resolveResponse({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(15_000, () => req.destroy(new Error('request timed out')));
    req.end();
  });
}
