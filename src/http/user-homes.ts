/**
 * Home directories of system users, for `/~name/` (the seed's --user), read from a passwd file
 * (/etc/passwd unless the config names another). The parsed file is trusted for a second, then
 * re-read if it changed.
 */
import { readFile, stat } from 'node:fs/promises';

const FRESH_MS = 1000;
const USER_NAME = /^[a-z_][a-z0-9_.-]{0,31}\$?$/i;

export class UserHomes {
  readonly #passwdFile: string;
  #homes: Map<string, string> = new Map();
  #mtimeMs = -1;
  #checkedAt = -Infinity;
  #loading: Promise<void> | null = null;

  constructor(passwdFile: string) {
    this.#passwdFile = passwdFile;
  }

  /** The home directory of `name`, or null when there is no such user (or no such file). */
  async home(name: string): Promise<string | null> {
    if (!USER_NAME.test(name)) return null;
    if (Date.now() - this.#checkedAt >= FRESH_MS) {
      this.#loading ??= this.#refresh().finally(() => (this.#loading = null));
      await this.#loading;
    }
    return this.#homes.get(name) ?? null;
  }

  async #refresh(): Promise<void> {
    try {
      const { mtimeMs } = await stat(this.#passwdFile);
      if (mtimeMs !== this.#mtimeMs) {
        this.#homes = parsePasswd(await readFile(this.#passwdFile, 'utf8'));
        this.#mtimeMs = mtimeMs;
      }
    } catch {
      this.#homes = new Map();
      this.#mtimeMs = -1;
    }
    this.#checkedAt = Date.now();
  }
}

/** `name:password:uid:gid:gecos:home:shell` lines into name → home. */
export function parsePasswd(text: string): Map<string, string> {
  const homes = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(':');
    const [name, , , , , home] = fields;
    if (fields.length >= 7 && name && home?.startsWith('/')) homes.set(name, home);
  }
  return homes;
}
