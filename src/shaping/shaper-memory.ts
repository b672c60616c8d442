/**
 * Allocation and configuration of a server's shaper memory (coordinator side). Limits live in
 * the shared memory too, so they can change at runtime for connections already running.
 */
import { randomInt } from 'node:crypto';
import type { ShapeLimits } from '../config/shape-spec.js';
import {
  kClientBurstBytes,
  kClientRateBytesPerSec,
  kHashSeedInt32,
  kLimitsVersionInt32,
  kServerBurstBytes,
  kServerRateBytesPerSec,
  kTableCapacity,
  shaperBytes,
} from './layout.js';

/** A zeroed shaper for `capacity` client slots (a power of two) with `limits` set. */
export function createShaperMemory(limits: ShapeLimits, capacity: number): SharedArrayBuffer {
  if (!Number.isInteger(capacity) || capacity < 1 || (capacity & (capacity - 1)) !== 0) {
    throw new RangeError(`table capacity must be a power of two, got ${capacity}`);
  }
  const memory = new SharedArrayBuffer(shaperBytes(capacity));
  const view = new BigInt64Array(memory);
  Atomics.store(view, kTableCapacity, BigInt(capacity));
  Atomics.store(new Int32Array(memory), kHashSeedInt32, randomInt(-(2 ** 31), 2 ** 31));
  setLimits(view, limits);
  return memory;
}

/** Changes the limits of a live shaper; running flows pick them up with their next chunk. */
export function setLimits(view: BigInt64Array, limits: ShapeLimits): void {
  Atomics.store(view, kServerRateBytesPerSec, BigInt(limits.server.rate));
  Atomics.store(view, kServerBurstBytes, BigInt(limits.server.burst));
  Atomics.store(view, kClientRateBytesPerSec, BigInt(limits.client.rate));
  Atomics.store(view, kClientBurstBytes, BigInt(limits.client.burst));
  // Last: a reader that sees the new version reads the new limits.
  Atomics.add(new Int32Array(view.buffer), kLimitsVersionInt32, 1);
}

/** The limits in force (as setLimits last wrote them). */
export function readLimits(view: BigInt64Array): ShapeLimits {
  return {
    server: { rate: Number(Atomics.load(view, kServerRateBytesPerSec)), burst: Number(Atomics.load(view, kServerBurstBytes)) },
    client: { rate: Number(Atomics.load(view, kClientRateBytesPerSec)), burst: Number(Atomics.load(view, kClientBurstBytes)) },
  };
}
