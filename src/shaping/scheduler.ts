/**
 * One pacing scheduler per worker: a binary min-heap of due times and a single timer, instead of
 * a timer per connection. The timer fires on a grid of `tickMs` (rounded up, so a task never runs
 * early and at most one tick late): every task due by then runs in that firing, so a thousand
 * paced flows cost at most 1000 / tickMs wake-ups a second. Lateness does not cost bandwidth:
 * buckets keep virtual time, the next reservation simply waits less.
 * Clock and timers are injected: tests drive it with a fake clock.
 */

/** Grid of timer firings, milliseconds. */
export const DEFAULT_TICK_MS = 2;

export interface SchedulerClock {
  /** Milliseconds, monotonic. */
  now(): number;
  setTimer(callback: () => void, delayMs: number): unknown;
  clearTimer(handle: unknown): void;
}

export const REAL_CLOCK: SchedulerClock = {
  now: () => performance.now(),
  setTimer: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** A scheduled task; cancel() makes it a no-op (it is dropped when it reaches the top). */
export interface Ticket {
  cancel(): void;
}

interface Entry extends Ticket {
  readonly due: number;
  readonly seq: number;
  task: (() => void) | null;
}

export class PacingScheduler {
  readonly #clock: SchedulerClock;
  readonly #tickMs: number;
  readonly #onError: (error: unknown) => void;
  readonly #heap: Entry[] = [];
  #seq = 0;
  #timer: unknown = null;
  #timerDue = Infinity;

  constructor(clock: SchedulerClock = REAL_CLOCK, tickMs = DEFAULT_TICK_MS, onError: (error: unknown) => void = reportError) {
    this.#clock = clock;
    this.#tickMs = tickMs;
    this.#onError = onError;
  }

  /** Entries waiting (cancelled ones included until they surface). */
  get size(): number {
    return this.#heap.length;
  }

  /** Runs `task` at `due` (clock milliseconds), or up to one tick after it. */
  at(due: number, task: () => void): Ticket {
    const entry: Entry = {
      due,
      seq: this.#seq++,
      task,
      cancel() {
        this.task = null;
      },
    };
    this.#push(entry);
    this.#arm(due);
    return entry;
  }

  /** Runs `task` after `delayMs`. */
  after(delayMs: number, task: () => void): Ticket {
    return this.at(this.#clock.now() + delayMs, task);
  }

  #arm(due: number): void {
    const fireAt = this.#tickMs > 0 ? Math.ceil(due / this.#tickMs) * this.#tickMs : due;
    if (fireAt >= this.#timerDue) return;
    if (this.#timer !== null) this.#clock.clearTimer(this.#timer);
    this.#timerDue = fireAt;
    this.#timer = this.#clock.setTimer(() => this.#fire(), Math.max(0, fireAt - this.#clock.now()));
  }

  #fire(): void {
    // Node timers may fire a little before the millisecond they were set for: run what is due by
    // the grid point this firing stands for (never later ones: tasks must not run early).
    const horizon = Math.max(this.#clock.now(), this.#timerDue);
    this.#timer = null;
    this.#timerDue = Infinity;
    while (this.#heap.length > 0 && this.#heap[0]!.due <= horizon) {
      const entry = this.#pop();
      const task = entry.task;
      if (task === null) continue;
      entry.task = null;
      try {
        task();
      } catch (error) {
        this.#onError(error);
      }
    }
    this.#dropCancelledTop();
    if (this.#heap.length > 0) this.#arm(this.#heap[0]!.due);
  }

  #dropCancelledTop(): void {
    while (this.#heap.length > 0 && this.#heap[0]!.task === null) this.#pop();
  }

  // Sift with a hole rather than swaps: fewer writes on the hot path of every paced chunk.
  #push(entry: Entry): void {
    const heap = this.#heap;
    let i = heap.length;
    heap.push(entry);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const above = heap[parent]!;
      if (!before(entry, above)) break;
      heap[i] = above;
      i = parent;
    }
    heap[i] = entry;
  }

  #pop(): Entry {
    const heap = this.#heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    const size = heap.length;
    if (size === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= size) break;
      const right = left + 1;
      const child = right < size && before(heap[right]!, heap[left]!) ? right : left;
      if (!before(heap[child]!, last)) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}

/** Earlier due first; equal due in scheduling order (FIFO), which keeps flows fair. */
function before(a: Entry, b: Entry): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}

function reportError(error: unknown): void {
  process.emitWarning(error instanceof Error ? error : new Error(String(error)));
}
