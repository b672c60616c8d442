/**
 * CPU time of a server process and its children (nginx workers), from /proc. Linux only;
 * elsewhere the readings are NaN and reports print "-".
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';

const CLOCK_TICKS_PER_SEC = 100;

function statFields(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces: fields start after its closing parenthesis.
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

function ownCpuTicks(pid: number): number {
  const fields = statFields(pid);
  // After the name: state(0) ppid(1) ... utime(11) stime(12).
  return fields ? Number(fields[11]) + Number(fields[12]) : 0;
}

/** CPU seconds used so far by `pid` and its direct children. */
export function treeCpuSeconds(pid: number): number {
  if (!existsSync('/proc/self/stat')) return NaN;
  let ticks = ownCpuTicks(pid);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    if (fields && Number(fields[1]) === pid) ticks += ownCpuTicks(Number(entry));
  }
  return ticks / CLOCK_TICKS_PER_SEC;
}
