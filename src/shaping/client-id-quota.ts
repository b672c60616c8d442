/**
 * How many distinct client ids (`--client-id-header` values) one client address holds at once in
 * this worker. A trusted proxy may pass on ids its clients chose; without a cap, one of them could
 * claim the whole client table and push everyone else into the overflow bucket.
 */
export class ClientIdQuota {
  readonly #limit: number;
  /** Client address → id → responses in flight under that id. */
  readonly #held = new Map<string, Map<string, number>>();

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Counts one response of `id` from `address`; false (nothing counted) when the address is at its limit. */
  acquire(address: string, id: string): boolean {
    let ids = this.#held.get(address);
    if (ids === undefined) {
      ids = new Map();
      this.#held.set(address, ids);
    }
    const count = ids.get(id);
    if (count === undefined && ids.size >= this.#limit) return false;
    ids.set(id, (count ?? 0) + 1);
    return true;
  }

  /** Ends one response counted by acquire(). */
  release(address: string, id: string): void {
    const ids = this.#held.get(address);
    const count = ids?.get(id);
    if (ids === undefined || count === undefined) return;
    if (count > 1) ids.set(id, count - 1);
    else if (ids.delete(id) && ids.size === 0) this.#held.delete(address);
  }

  /** Distinct ids `address` holds now. */
  held(address: string): number {
    return this.#held.get(address)?.size ?? 0;
  }
}
