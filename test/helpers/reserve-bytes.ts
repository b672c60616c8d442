/**
 * gcra.reserve() by bytes and rate, as tests think of it: the cost and tolerance worked out per
 * call (the server's flows cache them), the wait and the TAT it produced returned together.
 */
import { costNanos, reserve } from '../../src/shaping/gcra.js';

export function reserveBytes(view: BigInt64Array, index: number, bytes: number, now: bigint, rate: number, burst: number): { waitNanos: number; tat: bigint } {
  if (rate === 0) return { waitNanos: 0, tat: 0n };
  const out = { tat: 0n };
  const waitNanos = reserve(view, index, costNanos(bytes, rate), Number(costNanos(burst, rate)), now, out);
  return { waitNanos, tat: out.tat };
}
