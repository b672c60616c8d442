/**
 * `--admin-token-file PATH`: the control plane's token read from a file, so it shows on no command
 * line and in no `--print-config` output: its first line, spaces around it dropped.
 */
import { readBoundedFile } from './bounded-file.js';
import { parseAdminToken } from './values.js';

const MAX_TOKEN_FILE_BYTES = 4096;

export function readTokenFile(path: string, where: string): string {
  const text = readBoundedFile(path, MAX_TOKEN_FILE_BYTES, where)!;
  return parseAdminToken(text.split(/\r?\n/, 1)[0]!.trim(), `${where} (${path})`);
}
