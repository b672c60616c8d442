/**
 * The fault rules in force, of every server, numbered as they are added. Each change hands the
 * whole list to `publish` (the workers replace theirs with it): a few changes a minute at most.
 */
import type { FaultRule, FaultSpec } from './fault-rules.js';
import type { NetworkProfile } from './network-profiles.js';

/** At most this many rules at once: each request is checked against every rule of its server. */
export const MAX_FAULT_RULES = 256;

export class FaultBoardFull extends Error {}

export class FaultBoard {
  #next = 1;
  #rules: readonly FaultRule[] = [];
  readonly #publish: (rules: readonly FaultRule[]) => void;

  constructor(publish: (rules: readonly FaultRule[]) => void) {
    this.#publish = publish;
  }

  list(server: number): FaultRule[] {
    return this.#rules.filter((rule) => rule.server === server);
  }

  add(server: number, spec: FaultSpec): FaultRule {
    if (this.#rules.length >= MAX_FAULT_RULES) throw new FaultBoardFull(`at most ${MAX_FAULT_RULES} fault rules at once (DELETE some first)`);
    const rule: FaultRule = { ...spec, id: this.#next++, server };
    this.#set([...this.#rules, rule]);
    return rule;
  }

  /** Removes rule `id` of `server`; false when there is none. Profiles' rules go with their profile. */
  remove(server: number, id: number): boolean {
    const kept = this.#rules.filter((rule) => !(rule.server === server && rule.id === id && rule.profile === null));
    if (kept.length === this.#rules.length) return false;
    this.#set(kept);
    return true;
  }

  /** Removes every rule of `server` a profile did not set; how many. */
  clear(server: number): number {
    const kept = this.#rules.filter((rule) => rule.server !== server || rule.profile !== null);
    const removed = this.#rules.length - kept.length;
    if (removed > 0) this.#set(kept);
    return removed;
  }

  /** The latency rule of a profile on `client` (null: every client), replacing the one there; none for null. */
  setProfile(server: number, client: string | null, profile: NetworkProfile | null): void {
    const kept = this.#rules.filter((rule) => !(rule.server === server && rule.profile !== null && rule.client === client));
    if (profile === null) {
      if (kept.length !== this.#rules.length) this.#set(kept);
      return;
    }
    const rule: FaultRule = {
      id: this.#next++,
      server,
      path: null,
      client,
      share: 1,
      ttfbMs: profile.latencyMs,
      stallAfter: null,
      stallMs: 0,
      cutAfter: null,
      status: null,
      profile: profile.name,
    };
    this.#set([...kept, rule]);
  }

  #set(rules: readonly FaultRule[]): void {
    this.#rules = rules;
    this.#publish(rules);
  }
}
