/** A server as the control plane sees it: its plan and its shaper memory, and its clients' keys. */
import type { ServerPlan } from '../config/plan.js';
import type { ClientKey } from '../shaping/client-key.js';
import { kHashSeedInt32 } from '../shaping/layout.js';
import { clientKeyOf } from './client-names.js';

export interface ControlledServer {
  readonly plan: ServerPlan;
  /** Its shaper memory; null when it is not shaped. */
  readonly shaper: SharedArrayBuffer | null;
  /** Its virtual hosts and their own shaper memory (null: no limits of their own). */
  readonly vhosts: ReadonlyArray<{ readonly hostname: string; readonly shaper: SharedArrayBuffer | null }>;
}

/** The bucket key of client `name` on a shaped `server` (its seed and IPv6 grouping). */
export function clientKeyIn(server: ControlledServer, name: string): ClientKey {
  return clientKeyOf(name, server.plan.shape!.ipv6PrefixBits, Atomics.load(new Int32Array(server.shaper!), kHashSeedInt32));
}
