import assert from 'node:assert/strict';
import { test } from 'node:test';
import { costNanos, isFull, refund } from '../../../src/shaping/gcra.js';
import { reserveBytes } from '../../helpers/reserve-bytes.js';

const SEC = 1_000_000_000n;
const at = (seconds: number): bigint => BigInt(Math.round(seconds * 1e9));
const waitSec = (nanos: number): number => nanos / 1e9;

test('burst first, then steady refill (1000 B/s, burst 500 B, 100 B chunks), t0..t9', () => {
  const view = new BigInt64Array(1);
  const t0 = 100n * SEC;
  // [time offset s, bytes, expected wait s]
  const steps: Array<[number, number, number]> = [
    [0, 100, 0], // t0: burst
    [0, 100, 0],
    [0, 100, 0],
    [0, 100, 0],
    [0, 100, 0], // t4: burst of 500 spent
    [0, 100, 0.1], // t5: one chunk's worth in debt: wait 100 ms
    [0.1, 100, 0.1], // t6: at 0.1 s, the previous one went; this waits another 0.1 s
    [0.2, 100, 0.1], // t7
    [1.0, 100, 0], // t8: after idling, the bucket refilled (but never beyond the burst)
    [1.0, 500, 0.1], // t9: 500 more at once: 400 B were left, 100 B short = 100 ms
  ];
  steps.forEach(([offset, bytes, expected], i) => {
    const r = reserveBytes(view, 0, bytes, t0 + at(offset), 1000, 500);
    assert.equal(waitSec(r.waitNanos), expected, `t${i}`);
  });
});

test('idle time is not banked beyond the burst', () => {
  const view = new BigInt64Array(1);
  assert.equal(reserveBytes(view, 0, 1000, at(0), 1000, 1000).waitNanos, 0);
  // An hour of idling later, still only 1000 B of burst.
  assert.equal(reserveBytes(view, 0, 1000, at(3600), 1000, 1000).waitNanos, 0);
  assert.equal(waitSec(reserveBytes(view, 0, 1000, at(3600), 1000, 1000).waitNanos), 1);
});

test('a chunk larger than the burst waits for the difference', () => {
  const view = new BigInt64Array(1);
  assert.equal(waitSec(reserveBytes(view, 0, 3000, at(10), 1000, 1000).waitNanos), 2);
  const zeroBurst = new BigInt64Array(1);
  assert.equal(waitSec(reserveBytes(zeroBurst, 0, 500, at(10), 1000, 0).waitNanos), 0.5);
});

test('rate 0 is unlimited and leaves the bucket alone', () => {
  const view = new BigInt64Array(1);
  assert.deepEqual(reserveBytes(view, 0, 1e9, at(1), 0, 0), { waitNanos: 0, tat: 0n });
  assert.equal(view[0], 0n);
});

test('a rate change applies to the next reservation', () => {
  const view = new BigInt64Array(1);
  reserveBytes(view, 0, 1000, at(0), 1000, 1000); // burst spent
  assert.equal(waitSec(reserveBytes(view, 0, 1000, at(0), 1000, 1000).waitNanos), 1);
  // Ten times faster from now on: the next 1000 B cost 0.1 s on top of the debt.
  assert.equal(waitSec(reserveBytes(view, 0, 1000, at(0), 10_000, 0).waitNanos), 2.1);
});

test('refund only when nothing was reserved after', () => {
  const view = new BigInt64Array(1);
  const first = reserveBytes(view, 0, 1000, at(0), 1000, 0);
  assert.equal(refund(view, 0, 1000, 1000, first.tat), true);
  assert.equal(view[0], at(0));
  const a = reserveBytes(view, 0, 1000, at(0), 1000, 0);
  reserveBytes(view, 0, 1000, at(0), 1000, 0);
  assert.equal(refund(view, 0, 1000, 1000, a.tat), false);
});

test('isFull once the TAT is in the past', () => {
  const view = new BigInt64Array(1);
  reserveBytes(view, 0, 1000, at(0), 1000, 1000);
  assert.equal(isFull(view, 0, at(0.5)), false);
  assert.equal(isFull(view, 0, at(1)), true);
});

test('costs round up to whole nanoseconds', () => {
  assert.equal(costNanos(1, 3), 333_333_334n);
  assert.equal(costNanos(65536, 1e10), 6554n);
});
