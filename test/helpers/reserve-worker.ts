/**
 * Test worker: reserves fixed chunks from one shared bucket as fast as the bucket allows until a
 * deadline, sleeping (Atomics.wait is fine in a test thread) until each chunk's send time. Waits
 * at a barrier first so that every thread starts together.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { reserveBytes } from './reserve-bytes.js';

interface Job {
  readonly memory: SharedArrayBuffer;
  /** Word 0: deadline in clock nanoseconds, 0 until the start signal. */
  readonly control: SharedArrayBuffer;
  readonly index: number;
  readonly rate: number;
  readonly burst: number;
  readonly chunk: number;
}

const job = workerData as Job;
const view = new BigInt64Array(job.memory);
const control = new BigInt64Array(job.control);
const signal = new Int32Array(job.control, 8, 1);
parentPort!.postMessage({ type: 'ready' });
Atomics.wait(signal, 0, 0);
const deadline = Atomics.load(control, 0);
const sleeper = new Int32Array(new SharedArrayBuffer(4));
let granted = 0;
let reservations = 0;
for (;;) {
  const now = process.hrtime.bigint();
  const { waitNanos } = reserveBytes(view, job.index, job.chunk, now, job.rate, job.burst);
  reservations++;
  if (now + BigInt(waitNanos) > deadline) break;
  granted += job.chunk;
  if (waitNanos > 0) Atomics.wait(sleeper, 0, 0, waitNanos / 1e6);
}
parentPort!.postMessage({ type: 'done', granted, reservations });
