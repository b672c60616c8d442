/**
 * One pacing scheduler per worker: a binary min-heap of due times and a single timer armed for
 * the earliest, instead of a timer per connection. Tasks due within `slackMs` of a firing run in
 * that firing, so a thousand paced flows cost at most about one timer wake-up per millisecond.
 * Clock and timers are injected: tests drive it with a fake clock.
 */

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
  readonly #slackMs: number;
  readonly #onError: (error: unknown) => void;
  readonly #heap: Entry[] = [];
  #seq = 0;
  #timer: unknown = null;
  #timerDue = Infinity;

  constructor(clock: SchedulerClock = REAL_CLOCK, slackMs = 1, onError: (error: unknown) => void = reportError) {
    this.#clock = clock;
    this.#slackMs = slackMs;
    this.#onError = onError;
  }

  /** Entries waiting (cancelled ones included until they surface). */
  get size(): number {
    return this.#heap.length;
  }

  /** Runs `task` at `due` (clock milliseconds) or within the slack after it. */
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
    if (due < this.#timerDue) this.#arm(due);
    return entry;
  }

  /** Runs `task` after `delayMs`. */
  after(delayMs: number, task: () => void): Ticket {
    return this.at(this.#clock.now() + delayMs, task);
  }

  #arm(due: number): void {
    if (this.#timer !== null) this.#clock.clearTimer(this.#timer);
    this.#timerDue = due;
    this.#timer = this.#clock.setTimer(() => this.#fire(), Math.max(0, due - this.#clock.now()));
  }

  #fire(): void {
    this.#timer = null;
    this.#timerDue = Infinity;
    const horizon = this.#clock.now() + this.#slackMs;
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

  #push(entry: Entry): void {
    const heap = this.#heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  #pop(): Entry {
    const heap = this.#heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < heap.length && before(heap[left]!, heap[smallest]!)) smallest = left;
        if (right < heap.length && before(heap[right]!, heap[smallest]!)) smallest = right;
        if (smallest === i) break;
        [heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!];
        i = smallest;
      }
    }
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
