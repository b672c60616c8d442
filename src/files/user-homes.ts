/**
 * Accounts whose `public_html` may be served at `/~name/` (the seed's --user), read from a passwd
 * file (/etc/passwd unless the config names another). As Apache's UserDir, only ordinary accounts
 * qualify: uid at or above a minimum (1000 by default), never root, never the overflow "nobody"
 * ids. The parsed file is trusted for a second, then re-read if it changed.
 */
import { readFile, stat } from 'node:fs/promises';

const FRESH_MS = 1000;
const USER_NAME = /^[a-z_][a-z0-9_.-]{0,31}\$?$/i;
/** The kernel's overflow ids (nobody, nfsnobody): shared by unrelated services, never a person. */
const OVERFLOW_UIDS: ReadonlySet<number> = new Set([65534, 4294967294]);

/** One account from the passwd file. */
export interface Account {
  readonly home: string;
  readonly uid: number;
}

export class UserHomes {
  readonly #passwdFile: string;
  readonly #minUid: number;
  #accounts: Map<string, Account> = new Map();
  #mtimeMs = -1;
  #checkedAt = -Infinity;
  #loading: Promise<void> | null = null;

  constructor(passwdFile: string, minUid: number) {
    this.#passwdFile = passwdFile;
    this.#minUid = minUid;
  }

  /** The account of `name` when its directory may be served, else null. */
  async account(name: string): Promise<Account | null> {
    if (!USER_NAME.test(name)) return null;
    if (Date.now() - this.#checkedAt >= FRESH_MS) {
      this.#loading ??= this.#refresh().finally(() => (this.#loading = null));
      await this.#loading;
    }
    const account = this.#accounts.get(name);
    return account !== undefined && mayServe(account, this.#minUid) ? account : null;
  }

  async #refresh(): Promise<void> {
    try {
      const { mtimeMs } = await stat(this.#passwdFile);
      if (mtimeMs !== this.#mtimeMs) {
        this.#accounts = parsePasswd(await readFile(this.#passwdFile, 'utf8'));
        this.#mtimeMs = mtimeMs;
      }
    } catch {
      this.#accounts = new Map();
      this.#mtimeMs = -1;
    }
    this.#checkedAt = Date.now();
  }
}

/** An ordinary account: uid at or above `minUid`, not root, not an overflow id. */
export function mayServe(account: Account, minUid: number): boolean {
  return account.uid !== 0 && account.uid >= minUid && !OVERFLOW_UIDS.has(account.uid);
}

/** `name:password:uid:gid:gecos:home:shell` lines into name → account. */
export function parsePasswd(text: string): Map<string, Account> {
  const accounts = new Map<string, Account>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(':');
    const [name, , uidText, , , home] = fields;
    if (fields.length < 7 || !name || !home?.startsWith('/') || !/^\d+$/.test(uidText ?? '')) continue;
    // The first entry of a name is the account, as getpwnam() reads the file.
    if (!accounts.has(name)) accounts.set(name, { home, uid: Number(uidText) });
  }
  return accounts;
}
