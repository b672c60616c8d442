import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PacingScheduler, type SchedulerClock } from '../../../src/shaping/scheduler.js';

/** A fake clock with one pending timer, advanced by hand. */
class FakeClock implements SchedulerClock {
  time = 0;
  timer: { at: number; callback: () => void } | null = null;
  armed = 0;
  now(): number {
    return this.time;
  }
  setTimer(callback: () => void, delayMs: number): unknown {
    this.armed++;
    this.timer = { at: this.time + delayMs, callback };
    return this.timer;
  }
  clearTimer(handle: unknown): void {
    if (this.timer === handle) this.timer = null;
  }
  advance(to: number): void {
    while (this.timer && this.timer.at <= to) {
      this.time = this.timer.at;
      const { callback } = this.timer;
      this.timer = null;
      callback();
    }
    this.time = to;
  }
}

test('tasks run in due order with one timer armed for the earliest', () => {
  const clock = new FakeClock();
  const scheduler = new PacingScheduler(clock, 0);
  const ran: string[] = [];
  scheduler.at(30, () => ran.push('c'));
  scheduler.at(10, () => ran.push('a'));
  scheduler.at(20, () => ran.push('b'));
  assert.equal(clock.timer?.at, 10);
  clock.advance(15);
  assert.deepEqual(ran, ['a']);
  clock.advance(100);
  assert.deepEqual(ran, ['a', 'b', 'c']);
  assert.equal(scheduler.size, 0);
  assert.equal(clock.timer, null);
});

test('equal due times run first come, first served', () => {
  const clock = new FakeClock();
  const scheduler = new PacingScheduler(clock, 0);
  const ran: number[] = [];
  for (let i = 0; i < 5; i++) scheduler.at(10, () => ran.push(i));
  clock.advance(10);
  assert.deepEqual(ran, [0, 1, 2, 3, 4]);
});

test('firings fall on a grid: tasks due in one tick run together, never early', () => {
  const clock = new FakeClock();
  const scheduler = new PacingScheduler(clock, 4);
  const ran: Array<[number, number]> = [];
  for (const due of [9, 10.5, 12, 13]) scheduler.at(due, () => ran.push([due, clock.now()]));
  assert.equal(clock.timer?.at, 12);
  clock.advance(12);
  assert.deepEqual(ran, [
    [9, 12],
    [10.5, 12],
    [12, 12],
  ]);
  assert.equal(clock.timer?.at, 16);
  clock.advance(16);
  assert.deepEqual(ran.at(-1), [13, 16]);
  assert.equal(clock.armed, 2, 'one timer per grid point');
});

test('cancelled tasks never run and do not keep a timer', () => {
  const clock = new FakeClock();
  const scheduler = new PacingScheduler(clock, 0);
  let ran = false;
  const ticket = scheduler.at(10, () => (ran = true));
  scheduler.at(20, () => {});
  ticket.cancel();
  clock.advance(25);
  assert.equal(ran, false);
  assert.equal(scheduler.size, 0);
});

test('a task scheduled from a task runs later; a throwing task does not stop the others', () => {
  const clock = new FakeClock();
  const errors: unknown[] = [];
  const scheduler = new PacingScheduler(clock, 0, (e) => errors.push(e));
  const ran: string[] = [];
  scheduler.at(10, () => {
    throw new Error('boom');
  });
  scheduler.at(10, () => {
    ran.push('x');
    scheduler.after(5, () => ran.push('y'));
  });
  clock.advance(10);
  assert.deepEqual(ran, ['x']);
  assert.equal(errors.length, 1);
  clock.advance(15);
  assert.deepEqual(ran, ['x', 'y']);
});

test('a task that may be late goes on a coarser grid of the same phase, never early, and meets others there', () => {
  const clock = new FakeClock();
  const scheduler = new PacingScheduler(clock, 2);
  const ran: Array<[string, number]> = [];
  // Grace 12.5 ms: the 8-ms grid (2 x 2^2; 16 would exceed the grace).
  scheduler.at(101, () => ran.push(['a', clock.now()]), 12.5);
  scheduler.at(103, () => ran.push(['b', clock.now()]), 12.5);
  // No grace: the 2-ms grid.
  scheduler.at(101, () => ran.push(['c', clock.now()]));
  // A large grace is capped at 32 ms.
  scheduler.at(101, () => ran.push(['d', clock.now()]), 1000);
  // A fine-grid task landing on a coarse firing runs first, scheduled last or not.
  scheduler.at(103.5, () => ran.push(['e', clock.now()]));
  clock.advance(200);
  assert.deepEqual(ran, [
    ['c', 102],
    ['e', 104],
    ['a', 104],
    ['b', 104],
    ['d', 128],
  ]);
  assert.equal(clock.armed, 4, 'one timer per firing (3), and one re-armed for the earlier task c');
  // Grace exactly at a doubling: 4 ms gives the 4-ms grid.
  scheduler.at(201, () => ran.push(['f', clock.now()]), 4);
  clock.advance(300);
  assert.deepEqual(ran.at(-1), ['f', 204]);
});
