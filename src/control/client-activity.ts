/**
 * Each client's latest path, per server, as the workers report it a few times a second (by bucket
 * key, `high:low` of the server's shaper): the one that began last, whichever worker's report
 * comes last. Bounded: clients not reported for ten minutes are dropped.
 */
const KEPT_MS = 10 * 60_000;
const MAX_CLIENTS = 200_000;

export interface ClientPath {
  readonly path: string;
  /** When its download began (epoch ms, from the worker). */
  readonly began: number;
  /** When it was reported (performance.now()). */
  readonly at: number;
}

export class ClientActivity {
  readonly #servers = new Map<number, Map<string, ClientPath>>();
  readonly #now: () => number;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  record(server: number, paths: ReadonlyArray<readonly [string, string, number]>): void {
    let known = this.#servers.get(server);
    if (known === undefined) {
      known = new Map();
      this.#servers.set(server, known);
    }
    const now = this.#now();
    for (const [key, path, began] of paths) {
      const previous = known.get(key);
      known.delete(key);
      // Two workers' reports may cross: a path that began earlier does not replace a later one.
      known.set(key, previous !== undefined && previous.began > began ? { ...previous, at: now } : { path, began, at: now });
    }
    // Oldest first (reinserted on each report): drop from the front.
    for (const [key, entry] of known) {
      if (known.size <= MAX_CLIENTS && now - entry.at <= KEPT_MS) break;
      known.delete(key);
    }
  }

  /** The latest path of the client with bucket key `high:low`, or undefined. */
  latest(server: number, key: string): ClientPath | undefined {
    return this.#servers.get(server)?.get(key);
  }
}
