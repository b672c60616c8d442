import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keyFromAddress, type ClientKey } from '../../../src/shaping/client-key.js';
import { activeFlows, acquireSlot, overflowFlows, releaseSlot } from '../../../src/shaping/client-table.js';
import { reserveBytes } from '../../helpers/reserve-bytes.js';
import { ACTIVE_MASK, kOverflowSlot, kSlotState, kSlotTatNanos, slotBase } from '../../../src/shaping/layout.js';
import { createShaperMemory } from '../../../src/shaping/shaper-memory.js';

const limits = { server: { rate: 0, burst: 0 }, client: { rate: 1000, burst: 1000 } };
const table = (capacity: number) => new BigInt64Array(createShaperMemory(limits, capacity));
const ip = (n: number): ClientKey => keyFromAddress(new Uint8Array([10, 0, (n >> 8) & 255, n & 255]));
/** A key that hashes to `home`: forces collisions. */
const collide = (n: number, home: number): ClientKey => ({ ...ip(n), home });

test('the same client gets the same slot; its flows are counted', () => {
  const view = table(16);
  const a1 = acquireSlot(view, ip(1), 0n);
  const a2 = acquireSlot(view, ip(1), 0n);
  const b = acquireSlot(view, ip(2), 0n);
  assert.equal(a1, a2);
  assert.notEqual(a1, b);
  assert.equal(activeFlows(view, a1), 2);
  releaseSlot(view, a1);
  assert.equal(activeFlows(view, a1), 1);
});

test('colliding clients probe to the next slots and stay apart', () => {
  const view = table(16);
  const lines = [1, 2, 3].map((n) => acquireSlot(view, collide(n, 5), 0n));
  assert.equal(new Set(lines).size, 3);
  assert.deepEqual([1, 2, 3].map((n) => acquireSlot(view, collide(n, 5), 0n)), lines);
});

test('an idle client keeps its bucket until its slot is needed and its bucket has refilled', () => {
  const view = table(2);
  const a = acquireSlot(view, collide(1, 0), 0n);
  reserveBytes(view, slotBase(a) + kSlotTatNanos, 1000, 0n, 1000, 0); // a owes 1 s
  releaseSlot(view, a);
  const b = acquireSlot(view, collide(2, 0), 0n);
  assert.notEqual(b, a);
  // Table full (2 slots); a is idle but its bucket refills only at t = 1 s.
  const early = acquireSlot(view, collide(3, 0), 500_000_000n);
  assert.equal(early, kOverflowSlot);
  releaseSlot(view, early);
  // At t = 1 s a's slot is reclaimed for the new client, with a fresh bucket.
  const late = acquireSlot(view, collide(3, 0), 1_000_000_000n);
  assert.equal(late, a);
  assert.equal(view[slotBase(a) + kSlotTatNanos], 0n);
  // a comes back: b is busy, a's slot is taken: overflow.
  assert.equal(acquireSlot(view, collide(1, 0), 1_000_000_000n), kOverflowSlot);
});

test('a full table sends new clients to the overflow bucket, and counts them', () => {
  const view = table(4);
  for (let n = 0; n < 4; n++) assert.notEqual(acquireSlot(view, ip(n), 0n), kOverflowSlot);
  assert.equal(overflowFlows(view), 0);
  assert.equal(acquireSlot(view, ip(100), 0n), kOverflowSlot);
  assert.equal(acquireSlot(view, ip(101), 0n), kOverflowSlot);
  assert.equal(overflowFlows(view), 2);
  assert.equal(activeFlows(view, kOverflowSlot), 2);
  releaseSlot(view, kOverflowSlot);
  assert.equal(activeFlows(view, kOverflowSlot), 1);
});

test('a released slot is reused by the same client with its bucket intact', () => {
  const view = table(16);
  const line = acquireSlot(view, ip(7), 0n);
  reserveBytes(view, slotBase(line) + kSlotTatNanos, 1000, 0n, 1000, 0);
  releaseSlot(view, line);
  assert.equal(acquireSlot(view, ip(7), 10n), line);
  assert.equal(view[slotBase(line) + kSlotTatNanos], 1_000_000_000n);
});

test('a client whose flow count is full shares the overflow bucket; its fingerprint is never carried into', () => {
  const view = table(16);
  const line = acquireSlot(view, ip(9), 0n);
  const index = slotBase(line) + kSlotState;
  // As if 65,535 responses of this client were in flight.
  Atomics.store(view, index, (view[index]! & ~ACTIVE_MASK) | ACTIVE_MASK);
  const full = view[index];
  assert.equal(acquireSlot(view, ip(9), 0n), kOverflowSlot);
  assert.equal(view[index], full, 'state word unchanged');
  assert.equal(acquireSlot(view, ip(10), 0n) === line, false);
  releaseSlot(view, line);
  assert.equal(acquireSlot(view, ip(9), 0n), line, 'below the maximum again');
});
