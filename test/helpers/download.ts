/** A backlogged download for shaping tests: reads as fast as it can for a while, then stops. */
import { request } from 'node:http';

export interface DownloadResult {
  /** Body bytes received. */
  readonly bytes: number;
  /** Body bytes received by `markAfterMs` (0 when not asked). */
  readonly bytesAtMark: number;
  /** Milliseconds from sending the request to the end (stop or completion). */
  readonly elapsedMs: number;
  /** The whole body arrived (rather than being stopped). */
  readonly complete: boolean;
  readonly status: number;
}

export interface DownloadOptions {
  /** Source address, for a distinct client (127.0.0.2, 127.0.0.3...). */
  readonly localAddress?: string;
  readonly headers?: Record<string, string>;
  /** Stop after this long (omit to read to the end). */
  readonly stopAfterMs?: number;
  /** Note the byte count at this time (to leave a burst out of a measurement). */
  readonly markAfterMs?: number;
}

export function download(url: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  return new Promise((resolveDownload, reject) => {
    const started = performance.now();
    let bytes = 0;
    let bytesAtMark = 0;
    let status = 0;
    const mark = options.markAfterMs === undefined ? undefined : setTimeout(() => (bytesAtMark = bytes), options.markAfterMs);
    let settled = false;
    const finish = (complete: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(mark);
      resolveDownload({ bytes, bytesAtMark, elapsedMs: performance.now() - started, complete, status });
    };
    const req = request(url, { localAddress: options.localAddress, headers: options.headers, agent: false }, (res) => {
      status = res.statusCode ?? 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => finish(true));
      res.on('error', () => finish(false));
      res.on('close', () => finish(res.complete));
    });
    const timer = options.stopAfterMs === undefined ? undefined : setTimeout(() => {
      finish(false);
      req.destroy();
    }, options.stopAfterMs);
    req.on('error', (error) => (settled ? undefined : reject(error)));
    req.end();
  });
}
