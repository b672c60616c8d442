/**
 * Values of the `load` and `bench` command options (the server's options go through the option
 * table and argv-plan.ts): messages name the option and say what was expected. Pure.
 */
import { parseQuantity } from './rate-units.js';

export class CommandOptionError extends Error {}

/**
 * What `read` makes of a command's options; or, for a bad one, null once `mediacast COMMAND:
 * message` is on stderr (the command then exits 2).
 */
export function readOptions<T>(command: string, stderr: { write(text: string): unknown }, read: () => T): T | null {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof CommandOptionError)) throw error;
    stderr.write(`mediacast ${command}: ${error.message}\n`);
    return null;
  }
}

/** A whole number from `min` to `max`. */
export function wholeNumber(text: string, option: string, min: number, max: number): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) throw new CommandOptionError(`${option}: "${text}" is not a whole number from ${min} to ${max}`);
  return n;
}

/** `500ms`, `10s`, `2m`, `1h` or plain seconds, in milliseconds. */
export function parseDuration(text: string, option: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new CommandOptionError(`${option}: "${text}" is not a duration (expected e.g. 500ms, 30s, 2m)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Number(match[1]) * unit;
}

/** A rate in `--shape`'s units (`150kB`, `1.2Mbit`), in bytes per second, above 0. */
export function parseRate(text: string, option: string): number {
  const parsed = parseQuantity(text, 'rate');
  if (!parsed.ok) throw new CommandOptionError(`${option}: ${parsed.message} (expected a rate such as 150kB or 1.2Mbit)`);
  if (parsed.bytes <= 0) throw new CommandOptionError(`${option}: expected a rate above 0`);
  return parsed.bytes;
}
