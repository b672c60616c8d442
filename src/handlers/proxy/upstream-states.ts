/**
 * Up or down, per upstream, in shared memory: the coordinator's health checks write it, every
 * worker reads it before proxying, so a request for a down upstream gets its 502 at once instead
 * of waiting on a connect. A worker that meets a refused connection marks the upstream down too;
 * the next check brings it back.
 */
const UP = 0;
const DOWN = 1;

export function createUpstreamStates(count: number): SharedArrayBuffer {
  return new SharedArrayBuffer(Math.max(1, count) * Int32Array.BYTES_PER_ELEMENT);
}

export class UpstreamStates {
  readonly #words: Int32Array;

  constructor(memory: SharedArrayBuffer) {
    this.#words = new Int32Array(memory);
  }

  isDown(upstream: number): boolean {
    return Atomics.load(this.#words, upstream) === DOWN;
  }

  /** Sets the state; true when it changed. */
  set(upstream: number, down: boolean): boolean {
    return Atomics.exchange(this.#words, upstream, down ? DOWN : UP) !== (down ? DOWN : UP);
  }
}
