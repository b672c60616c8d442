/**
 * Text files the configuration names (a schedule, a token), read at startup as the account the
 * server starts as: opened once and checked on the descriptor, without blocking (a FIFO is
 * refused, not waited on), read up to a bound whatever size the file claims (/proc files say 0).
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { ConfigError, ConfigErrorCode } from './errors.js';

/** The file's text; null when `missingOk` and there is no such file (or the open fails and `missingOk` says so). */
export function readBoundedFile(path: string, maxBytes: number, where: string, missingOk: (code: string | undefined) => boolean = () => false): string | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (missingOk(code)) return null;
    throw new ConfigError(ConfigErrorCode.BadValue, where, `cannot read ${path} (${code ?? String(error)})`);
  }
  try {
    if (!fstatSync(fd).isFile()) throw new ConfigError(ConfigErrorCode.BadValue, where, `${path} is not a regular file`);
    const chunks: Buffer[] = [];
    let length = 0;
    for (;;) {
      const chunk = Buffer.alloc(Math.min(1 << 20, maxBytes + 1));
      const read = readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) break;
      chunks.push(chunk.subarray(0, read));
      length += read;
      if (length > maxBytes) throw new ConfigError(ConfigErrorCode.BadValue, where, `${path} is over ${maxBytes} bytes`);
    }
    return Buffer.concat(chunks).toString('utf8');
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(ConfigErrorCode.BadValue, where, `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  } finally {
    closeSync(fd);
  }
}
