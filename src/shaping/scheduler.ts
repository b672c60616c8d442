/**
 * One pacing scheduler per worker: a binary min-heap of firing times and a single timer, instead
 * of a timer per connection. The timer fires on a grid of `tickMs` (rounded up, so a task never
 * runs early and at most one tick late): every task due by then runs in that firing, so a
 * thousand paced flows cost at most 1000 / tickMs wake-ups a second. A task that may run later
 * (a flow sending every 100 ms does not need 2-ms precision) says so, and goes on a coarser grid
 * of the same phase (tickMs x 2^k), where it meets the other tasks of its firing: fewer
 * wake-ups, and writes to many sockets in one pass. Lateness does not cost bandwidth: buckets
 * keep virtual time, the next reservation simply waits less.
 * Clock and timers are injected: tests drive it with a fake clock.
 */

/** Grid of timer firings, milliseconds. */
export const DEFAULT_TICK_MS = 2;
/** The coarsest grid a task that may be late is put on, milliseconds. */
export const MAX_GRID_MS = 32;

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

/** A class, not a literal with a method: no function allocated per scheduled chunk. */
class Entry implements Ticket {
  constructor(
    /** When it runs: its due time rounded up to its grid. */
    readonly fireAt: number,
    /** Its grid step: at one firing, the strictest tasks run first. */
    readonly grid: number,
    readonly seq: number,
    public task: (() => void) | null,
  ) {}

  cancel(): void {
    this.task = null;
  }
}

export class PacingScheduler {
  readonly #clock: SchedulerClock;
  readonly #tickMs: number;
  readonly #onError: (error: unknown) => void;
  readonly #heap: Entry[] = [];
  #seq = 0;
  #timer: unknown = null;
  #timerDue = Infinity;
  /** Inside #fire: tasks scheduled by the tasks run are armed for once, at the end. */
  #firing = false;

  constructor(clock: SchedulerClock = REAL_CLOCK, tickMs = DEFAULT_TICK_MS, onError: (error: unknown) => void = reportError) {
    this.#clock = clock;
    this.#tickMs = tickMs;
    this.#onError = onError;
  }

  /** Entries waiting (cancelled ones included until they surface). */
  get size(): number {
    return this.#heap.length;
  }

  /**
   * Runs `task` at `due` (clock milliseconds), or up to one tick after it; with `graceMs`, up to
   * the coarsest grid step (a power of two of ticks, at most MAX_GRID_MS) not above it.
   */
  at(due: number, task: () => void, graceMs = 0): Ticket {
    let grid = this.#tickMs;
    if (grid > 0) while (grid * 2 <= graceMs && grid * 2 <= MAX_GRID_MS) grid *= 2;
    const entry = new Entry(grid > 0 ? Math.ceil(due / grid) * grid : due, grid, this.#seq++, task);
    this.#push(entry);
    if (!this.#firing) this.#arm(entry.fireAt);
    return entry;
  }

  /** Runs `task` after `delayMs` (and up to `graceMs` later, as at()). */
  after(delayMs: number, task: () => void, graceMs = 0): Ticket {
    return this.at(this.#clock.now() + delayMs, task, graceMs);
  }

  #arm(fireAt: number): void {
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
    this.#firing = true;
    try {
      while (this.#heap.length > 0 && this.#heap[0]!.fireAt <= horizon) {
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
    } finally {
      this.#firing = false;
    }
    this.#dropCancelledTop();
    if (this.#heap.length > 0) this.#arm(this.#heap[0]!.fireAt);
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

/**
 * Earlier firing first; at one firing the finer grid first (a task that must not be late does
 * not wait behind a batch of ones that may), then scheduling order (FIFO), which keeps flows fair.
 */
function before(a: Entry, b: Entry): boolean {
  if (a.fireAt !== b.fireAt) return a.fireAt < b.fireAt;
  if (a.grid !== b.grid) return a.grid < b.grid;
  return a.seq < b.seq;
}

function reportError(error: unknown): void {
  process.emitWarning(error instanceof Error ? error : new Error(String(error)));
}
