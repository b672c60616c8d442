/**
 * `--max-connections`, counted across every worker in shared memory: a connection opened past the
 * cap is closed as soon as uWS reports it (before any request is read), so a flood can never use
 * up the process's descriptors.
 */
import type { HttpResponse } from '../../native-bindings/uws.js';

/** Int32 words of the shared connection counters. */
export const kOpenConnections = 0;
export const kShedConnections = 1;

export function createConnectionCounters(): SharedArrayBuffer {
  return new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
}

/** The uWS filter callback: `count` is 1 when a connection opens, -1 when it closes. */
export function connectionLimiter(counters: SharedArrayBuffer, max: number): (res: HttpResponse, count: number) => void {
  const words = new Int32Array(counters);
  return (res, count) => {
    if (count < 0) {
      Atomics.sub(words, kOpenConnections, 1);
      return;
    }
    // Counted first, so that closing it below (which reports -1 at once) balances the count.
    if (Atomics.add(words, kOpenConnections, 1) >= max) {
      Atomics.add(words, kShedConnections, 1);
      res.close();
    }
  };
}

/** Connections closed at the cap so far, all workers together. */
export function shedConnections(counters: SharedArrayBuffer): number {
  return Atomics.load(new Int32Array(counters), kShedConnections);
}
