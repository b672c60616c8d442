/** A fake millisecond clock with timers, for the scheduler and the shaper (which reads nanoseconds). */
import type { SchedulerClock } from '../../../src/shaping/scheduler.js';

export class FakeClock implements SchedulerClock {
  time = 0;
  #timers: Array<{ at: number; callback: () => void }> = [];

  now(): number {
    return this.time;
  }

  nanos = (): bigint => BigInt(Math.round(this.time * 1e6));

  setTimer(callback: () => void, delayMs: number): unknown {
    const timer = { at: this.time + delayMs, callback };
    this.#timers.push(timer);
    return timer;
  }

  clearTimer(handle: unknown): void {
    this.#timers = this.#timers.filter((t) => t !== handle);
  }

  /** Runs due timers in order until `to`. */
  advance(to: number): void {
    for (;;) {
      this.#timers.sort((a, b) => a.at - b.at);
      const next = this.#timers[0];
      if (!next || next.at > to) break;
      this.#timers.shift();
      this.time = Math.max(this.time, next.at);
      next.callback();
    }
    this.time = to;
  }
}
