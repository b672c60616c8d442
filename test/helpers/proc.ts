/** Linux /proc readings of a server process, and polling (never a bare sleep as proof). */
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';

export const HAS_PROC = existsSync('/proc/self/status');

/** Resident set size in bytes. */
export function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : NaN;
}

/** Open descriptors of `pid` that point at `path`. */
export function fdsOnPath(pid: number, path: string): number {
  let count = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`) === path) count++;
    } catch {
      // The descriptor closed while we looked.
    }
  }
  return count;
}

/** Polls `check` (which may itself wait) every 20 ms until it returns true or `timeoutMs` passes. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolveTick) => setTimeout(resolveTick, 20));
  }
}
