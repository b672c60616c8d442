/**
 * The fault rules of one server in a worker (control/fault-rules.ts), compiled: a path matcher
 * and a client key per rule, so that a request is checked without parsing anything. Rules come
 * from the coordinator as a whole list; a request draws each matching rule by its share.
 */
import { clientKeyOf } from '../control/client-names.js';
import { combineFaults, type FaultPlan, type FaultRule } from '../control/fault-rules.js';
import { compileGlob, type PathGlob } from '../control/path-glob.js';
import { keyKind, type ClientKey } from '../shaping/client-key.js';

interface CompiledRule {
  readonly rule: FaultRule;
  readonly path: PathGlob | null;
  readonly client: ClientKey | null;
}

export class FaultMatcher {
  #rules: readonly CompiledRule[] = [];
  readonly #ipv6PrefixBits: number;
  readonly #random: () => number;

  constructor(ipv6PrefixBits: number, random: () => number = Math.random) {
    this.#ipv6PrefixBits = ipv6PrefixBits;
    this.#random = random;
  }

  get empty(): boolean {
    return this.#rules.length === 0;
  }

  /** Replaces the rules (those of this server only; the control plane checked them). */
  set(rules: readonly FaultRule[]): void {
    this.#rules = rules.map((rule) => ({
      rule,
      path: rule.path === null ? null : compileGlob(rule.path),
      client: rule.client === null ? null : clientKeyOf(rule.client, this.#ipv6PrefixBits, 0),
    }));
  }

  /** What happens to a request for `path` from `client` (its key with seed 0), or null. */
  plan(path: string, client: () => ClientKey): FaultPlan | null {
    let key: ClientKey | undefined;
    const drawn = this.#rules.filter(({ rule, path: matches, client: wanted }) => {
      if (matches !== null && !matches.matches(path)) return false;
      if (wanted !== null) {
        key ??= client();
        if (key.high !== wanted.high || key.low !== wanted.low || keyKind(key.fingerprint) !== keyKind(wanted.fingerprint)) return false;
      }
      return rule.share >= 1 || this.#random() < rule.share;
    });
    return combineFaults(drawn.map(({ rule }) => rule));
  }
}
