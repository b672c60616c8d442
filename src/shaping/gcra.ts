/**
 * Token buckets as virtual time (GCRA): one 64-bit word per bucket holds its theoretical arrival
 * time (TAT), the instant at which the bucket would be full again, in clock nanoseconds. Sending
 * n bytes moves the TAT forward by n / rate; the bytes may leave once TAT - burst / rate is not
 * in the future. Lazy refill: time is passed in, nothing ticks.
 *
 * `reserve` commits the bytes and says how long to wait before sending them (like
 * x/time/rate's Reserve), so a chunk larger than the burst still goes out, at the right time.
 * Over any interval of length t a bucket lets out at most burst + rate * t bytes.
 */

/** Nanoseconds that `bytes` cost at `rate` bytes per second (rounded up: never faster). */
export function costNanos(bytes: number, rate: number): bigint {
  return BigInt(Math.ceil((bytes * 1e9) / rate));
}

/**
 * Reserves a chunk that costs `cost` nanoseconds (costNanos) from the bucket whose TAT is
 * `view[index]`, whose burst allows `toleranceNanos` (costNanos of the burst); returns how long
 * to wait before sending, in nanoseconds, and puts the TAT it produced in `out.tat` (for
 * refunds). Safe against any number of threads reserving at once. The caller works the cost and
 * tolerance out once per chunk size and rate (no object and the fewest BigInts per chunk).
 */
export function reserve(view: BigInt64Array, index: number, cost: bigint, toleranceNanos: number, now: bigint, out: { tat: bigint }): number {
  for (;;) {
    const tat = Atomics.load(view, index);
    // An idle bucket does not bank more than its burst: time before `now` is not credited.
    const next = (tat > now ? tat : now) + cost;
    // Compare-exchange loop: another thread may have moved the TAT since we read it; then
    // recompute from its value, so every byte is accounted exactly once.
    if (Atomics.compareExchange(view, index, tat, next) === tat) {
      out.tat = next;
      const wait = Number(next - now) - toleranceNanos;
      return wait > 0 ? wait : 0;
    }
  }
}

/**
 * Gives back `bytes` reserved by a reservation that produced `tat`, when nothing was reserved
 * after it (otherwise the bytes stay spent: refunding would let a later reservation jump ahead).
 */
export function refund(view: BigInt64Array, index: number, bytes: number, rate: number, tat: bigint): boolean {
  if (!(rate > 0) || bytes <= 0) return false;
  return Atomics.compareExchange(view, index, tat, tat - costNanos(bytes, rate)) === tat;
}

/**
 * Holds the bucket back by `nanos` from `now` (a pause): its TAT moves to at least now + burst
 * tolerance + nanos, so nothing more leaves until then; what was owed stays owed.
 */
export function delay(view: BigInt64Array, index: number, nanos: bigint, toleranceNanos: bigint, now: bigint): void {
  for (;;) {
    const tat = Atomics.load(view, index);
    const held = now + toleranceNanos + nanos;
    const next = tat > now ? tat + nanos : held;
    if (Atomics.compareExchange(view, index, tat, next > held ? next : held) === tat) return;
  }
}

/** Lets nothing leave the bucket before `until` (an outage): its TAT is at least until + tolerance. */
export function holdUntil(view: BigInt64Array, index: number, until: bigint, toleranceNanos: bigint): void {
  for (;;) {
    const tat = Atomics.load(view, index);
    const held = until + toleranceNanos;
    if (tat >= held || Atomics.compareExchange(view, index, tat, held) === tat) return;
  }
}

/** True when the bucket has refilled to its full burst at `now` (its state can be forgotten). */
export function isFull(view: BigInt64Array, index: number, now: bigint): boolean {
  return Atomics.load(view, index) <= now;
}

/**
 * Bytes the bucket at `view[index]` could let out at `now`: its burst when full, less as flows
 * spend it, below 0 while they owe it (chunks reserved ahead, waiting for their time).
 */
export function bucketLevel(view: BigInt64Array, index: number, rate: number, burst: number, now: bigint): number {
  if (!(rate > 0)) return burst;
  const ahead = Number(Atomics.load(view, index) - now);
  return Math.round(burst - (Math.max(0, ahead) * rate) / 1e9);
}
