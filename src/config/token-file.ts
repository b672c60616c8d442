/**
 * `--admin-token-file PATH`: the control plane's token read from a file, so it shows on no command
 * line and in no `--print-config` output. The first line, spaces around it dropped; opened once,
 * without blocking, a regular file of at most 4 KiB.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { ConfigError, ConfigErrorCode } from './errors.js';
import { parseAdminToken } from './values.js';

const MAX_TOKEN_FILE_BYTES = 4096;

export function readTokenFile(path: string, where: string): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw new ConfigError(ConfigErrorCode.BadValue, where, `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  try {
    if (!fstatSync(fd).isFile()) throw new ConfigError(ConfigErrorCode.BadValue, where, `${path} is not a regular file`);
    const buffer = Buffer.alloc(MAX_TOKEN_FILE_BYTES + 1);
    const length = readSync(fd, buffer, 0, buffer.length, 0);
    if (length > MAX_TOKEN_FILE_BYTES) throw new ConfigError(ConfigErrorCode.BadValue, where, `${path} is over ${MAX_TOKEN_FILE_BYTES} bytes (expected the token on its first line)`);
    const token = buffer.toString('utf8', 0, length).split(/\r?\n/, 1)[0]!.trim();
    return parseAdminToken(token, `${where} (${path})`);
  } finally {
    closeSync(fd);
  }
}
