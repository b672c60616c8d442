/**
 * `--shape-schedule [per-client:][once:]SCHEDULE`: a rate schedule the server starts with. SCHEDULE
 * is a file (a mahimahi, `time_s Mbit/s` or Sabre trace, or steps) or the steps themselves
 * (`0s:4Mbit,30s:1Mbit,60s~4Mbit`). It drives the server-wide limit from startup, or with
 * `per-client:` each client's limit, each from that client's first request. Looping unless `once:`.
 */
import { resolve } from 'node:path';
import { readBoundedFile } from './bounded-file.js';
import { ConfigError, ConfigErrorCode } from './errors.js';
import { parseSchedule, ScheduleError, type RateSchedule } from './rate-schedule.js';

export interface ShapeSchedulePlan {
  /** As given, with a file's path made absolute (what --print-config shows). */
  readonly spec: string;
  readonly target: 'server' | 'clients';
  readonly loop: boolean;
  readonly schedule: RateSchedule;
}

/** Traces of a day at 1 ms resolution stay well under this. */
const MAX_SCHEDULE_FILE_BYTES = 64 * 1024 * 1024;

/** The schedule `value` names, a relative file against `base`. Throws ConfigError. */
export function parseShapeSchedule(value: string, where: string, base: string): ShapeSchedulePlan {
  let rest = value;
  let target: ShapeSchedulePlan['target'] = 'server';
  let loop = true;
  for (;;) {
    if (rest.startsWith('per-client:')) {
      target = 'clients';
      rest = rest.slice('per-client:'.length);
    } else if (rest.startsWith('once:')) {
      loop = false;
      rest = rest.slice('once:'.length);
    } else break;
  }
  if (rest === '') throw new ConfigError(ConfigErrorCode.BadValue, where, 'expected a schedule file or steps (e.g. 0s:4Mbit,30s:1Mbit) after the prefixes');
  const prefix = value.slice(0, value.length - rest.length);
  const path = resolve(base, rest);
  const file = readScheduleFile(path, rest, where);
  const isFile = file !== null;
  const text = file ?? rest;
  const spec = isFile ? `${prefix}${path}` : value;
  try {
    return { spec, target, loop, schedule: parseSchedule(text) };
  } catch (error) {
    if (!(error instanceof ScheduleError)) throw error;
    const what = isFile ? path : `"${rest}" (no such file, so read as steps)`;
    throw new ConfigError(ConfigErrorCode.BadValue, where, `${what}: ${error.message}`);
  }
}

/** The text of the regular file at `path`, or null when there is none (the value is then steps). */
function readScheduleFile(path: string, steps: string, where: string): string | null {
  // Steps are not a file; a file that cannot be opened is refused, unless the value reads as steps.
  return readBoundedFile(path, MAX_SCHEDULE_FILE_BYTES, where, (code) => code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG' || looksLikeSteps(steps));
}

function looksLikeSteps(text: string): boolean {
  try {
    parseSchedule(text);
    return true;
  } catch {
    return false;
  }
}
