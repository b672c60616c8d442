import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';

const WORKER = new URL('../../helpers/reserve-worker.js', import.meta.url);

test('4 threads reserving from one bucket for 2 s: never above burst + rate x elapsed, at least 98% of it', async () => {
  const rate = 50_000_000;
  const burst = 1_000_000;
  const memory = new SharedArrayBuffer(64 * 2);
  const control = new SharedArrayBuffer(16);
  const workers = Array.from(
    { length: 4 },
    () => new Worker(WORKER, { workerData: { memory, control, index: 8, rate, burst, chunk: 16_384 } }),
  );
  await Promise.all(workers.map((w) => once(w, 'message')));
  const done = workers.map((w) => once(w, 'message'));
  const start = process.hrtime.bigint();
  Atomics.store(new BigInt64Array(control), 0, start + 2_000_000_000n);
  Atomics.store(new Int32Array(control, 8, 1), 0, 1);
  Atomics.notify(new Int32Array(control, 8, 1), 0);
  const results = (await Promise.all(done)).map(([m]) => m as { granted: number; reservations: number });
  const granted = results.reduce((sum, r) => sum + r.granted, 0);
  const allowed = burst + rate * 2;
  assert.ok(granted <= allowed, `granted ${granted} > allowed ${allowed}`);
  assert.ok(granted >= 0.98 * allowed, `granted only ${((granted / allowed) * 100).toFixed(2)}% of ${allowed}`);
  assert.ok(results.every((r) => r.reservations > 10), 'every thread took part');
});
