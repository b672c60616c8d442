/**
 * Runs rate schedules (rate-schedule.ts) against the shapers: every tick, each schedule's rate
 * for now is written where the flows read it (a server's limit, or a client's own), when it
 * changed. A schedule runs from the moment it is set; looping or once (then its last rate holds
 * until cleared). An outage (a rate of 0: a trace's empty bins) holds the bucket back from one
 * tick to the next at the rate before it: a near-zero rate would leave chunks reserved at it
 * waiting for minutes after the outage, and a server rate of 0 means no limit. The burst follows the rate, as the same time
 * of it (the configured burst over the configured rate): a burst fixed in bytes would hold a
 * flow back at every step up (its bucket's lead, allowed at the low rate, is more than the high
 * rate allows), which costs a trace that changes every 100 ms a tenth of its mean.
 */
import type { ShapeLimits } from '../config/shape-spec.js';
import { clearClientLimit, MAX_CLIENT_LIMIT, setClientLimit } from '../shaping/client-limits.js';
import { findSlot } from '../shaping/client-table.js';
import { costNanos, holdUntil } from '../shaping/gcra.js';
import { kServerTatNanos, kSlotTatNanos, slotBase } from '../shaping/layout.js';
import { hrClock } from '../shaping/server-shaper.js';
import { readLimits, setLimits } from '../shaping/shaper-memory.js';
import { clientKeyIn, type ControlledServer } from './controlled-server.js';
import { meanRate, rateAt, type RateSchedule } from './rate-schedule.js';

/** An outage holds the bucket this far ahead at each tick (a little more than a tick apart). */
const OUTAGE_HOLD_NANOS = 80_000_000n;

/** `server`, or a client by name (an address or id:VALUE). */
export type ScheduleTarget = 'server' | { readonly client: string };

interface Running {
  readonly server: number;
  readonly target: ScheduleTarget;
  readonly schedule: RateSchedule;
  readonly loop: boolean;
  readonly startedAt: number;
  /** What the limit was when the schedule was set (a server's comes back when it is cleared). */
  readonly before: ShapeLimits;
  /** Seconds of rate the burst is. */
  readonly burstSeconds: number;
  applied: number;
}

export interface ScheduleInfo {
  readonly server: number;
  readonly target: string;
  readonly format: RateSchedule['format'];
  readonly loop: boolean;
  readonly lengthSeconds: number;
  readonly meanRate: number;
  readonly elapsedSeconds: number;
  readonly rate: number;
  readonly finished: boolean;
}

const targetName = (target: ScheduleTarget): string => (target === 'server' ? 'server' : target.client);

/** A level's burst as seconds of its rate (none when it has no rate). */
const burstSeconds = ({ rate, burst }: { rate: number; burst: number }): number => (rate > 0 ? burst / rate : 0);

export class ScheduleRunner {
  readonly #servers: readonly ControlledServer[];
  readonly #now: () => number;
  readonly #running = new Map<string, Running>();

  constructor(servers: readonly ControlledServer[], now: () => number = () => performance.now()) {
    this.#servers = servers;
    this.#now = now;
  }

  /** Starts `schedule` on `target` of server `server` now (replacing one already there); applies its first rate. */
  set(server: number, target: ScheduleTarget, schedule: RateSchedule, loop: boolean): ScheduleInfo {
    const view = this.#view(server);
    const before = readLimits(view);
    const key = `${server} ${targetName(target)}`;
    const previous = this.#running.get(key);
    const running: Running = {
      server,
      target,
      schedule,
      loop,
      startedAt: this.#now(),
      // A schedule replacing another keeps the limits (and the burst) from before the first.
      before: previous?.before ?? before,
      burstSeconds: previous?.burstSeconds ?? burstSeconds(target === 'server' ? before.server : before.client),
      applied: -1,
    };
    // Running only once its first rate applied (a client limit refused, a full table...).
    this.#apply(running);
    this.#running.set(key, running);
    return this.#info(running);
  }

  /** Stops the schedule of `target`: a server's limit goes back to what it was, a client's own limit is cleared. */
  clear(server: number, target: ScheduleTarget): boolean {
    const key = `${server} ${targetName(target)}`;
    const running = this.#running.get(key);
    if (running === undefined) return false;
    this.#running.delete(key);
    const view = this.#view(server);
    if (target === 'server') setLimits(view, { server: running.before.server, client: readLimits(view).client });
    else clearClientLimit(view, this.#key(server, target.client));
    return true;
  }

  /** Drops the schedule of `target` and leaves its limit as it is (a rate set by hand replaces it). */
  forget(server: number, target: ScheduleTarget): void {
    this.#running.delete(`${server} ${targetName(target)}`);
  }

  list(): ScheduleInfo[] {
    return [...this.#running.values()].map((running) => this.#info(running));
  }

  /** Applies every schedule's rate for now (the admin subsystem calls it about 20 times a second). */
  tick(): void {
    for (const running of this.#running.values()) this.#apply(running);
  }

  #apply(running: Running): void {
    const scheduled = rateAt(running.schedule, this.#now() - running.startedAt, running.loop);
    const view = this.#view(running.server);
    if (scheduled === 0) return this.#hold(running, view);
    const rate = running.target === 'server' ? scheduled : Math.min(MAX_CLIENT_LIMIT, scheduled);
    if (rate === running.applied) return;
    const burst = Math.min(MAX_CLIENT_LIMIT, Math.round(rate * running.burstSeconds));
    if (running.target === 'server') setLimits(view, { server: { rate, burst }, client: readLimits(view).client });
    else setClientLimit(view, this.#key(running.server, running.target.client), { rate, burst });
    running.applied = rate;
  }

  /** An outage: nothing leaves the target's bucket until the next tick (the rate stays as it was). */
  #hold(running: Running, view: BigInt64Array): void {
    const limits = readLimits(view);
    const until = hrClock() + OUTAGE_HOLD_NANOS;
    if (running.target === 'server') {
      if (limits.server.rate > 0) holdUntil(view, kServerTatNanos, until, costNanos(limits.server.burst, limits.server.rate));
      return;
    }
    // Only a connected client has a bucket to hold.
    const line = findSlot(view, this.#key(running.server, running.target.client));
    const rate = running.applied > 0 ? running.applied : limits.client.rate;
    if (line >= 0 && rate > 0) holdUntil(view, slotBase(line) + kSlotTatNanos, until, costNanos(Math.round(rate * running.burstSeconds), rate));
  }

  #info(running: Running): ScheduleInfo {
    const elapsed = this.#now() - running.startedAt;
    return {
      server: running.server,
      target: targetName(running.target),
      format: running.schedule.format,
      loop: running.loop,
      lengthSeconds: running.schedule.lengthMs / 1000,
      meanRate: Math.round(meanRate(running.schedule)),
      elapsedSeconds: Math.round(elapsed) / 1000,
      rate: running.applied,
      finished: !running.loop && elapsed >= running.schedule.lengthMs,
    };
  }

  #view(server: number): BigInt64Array {
    return new BigInt64Array(this.#servers[server]!.shaper!);
  }

  #key(server: number, client: string) {
    return clientKeyIn(this.#servers[server]!, client);
  }
}
