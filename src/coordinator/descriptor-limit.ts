/**
 * The process's descriptor limit and the connection cap that follows from it. Every connection
 * holds a descriptor, and a response streaming a large file may hold one more; out of descriptors,
 * uSockets retries accept() in a tight loop and the server spins. So connections are capped below
 * the limit (with room for files, logs and the runtime), and excess connections are closed at once.
 */
import { readFileSync } from 'node:fs';

/** Descriptors kept for the runtime itself (stdio, log files, ...), and for each worker thread's own (event loop, listen sockets). */
const RESERVED_DESCRIPTORS = 48;
const RESERVED_PER_WORKER = 16;
/** Below this limit a load test runs out early: say so at startup. */
export const LOW_DESCRIPTOR_LIMIT = 4096;

/** The soft limit on open files (Node raises it to the hard limit at startup), or null if unknown. */
export function readDescriptorLimit(limitsFile = '/proc/self/limits'): number | null {
  try {
    const line = readFileSync(limitsFile, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    if (soft === 'unlimited') return Number.MAX_SAFE_INTEGER;
    return soft !== undefined && /^\d+$/.test(soft) ? Number(soft) : null;
  } catch {
    return null;
  }
}

/** Connections that fit in `limit` descriptors: two each (socket and file), after the reserve. */
export function defaultMaxConnections(limit: number, workers: number): number {
  return Math.max(1, Math.floor((limit - RESERVED_DESCRIPTORS - RESERVED_PER_WORKER * workers) / 2));
}
