/**
 * Runs rate schedules (config/rate-schedule.ts) against the shapers: every tick, each schedule's
 * rate for now is written where the flows read it (a server's limit, one client's own, or every
 * client's slot), when it changed. Targets:
 * - `server`: the server-wide limit;
 * - `{client}`: one client's own limit;
 * - `clients`: every client, each on its own clock from its first request (a client with a
 *   limit of its own keeps that); the server's client limit is the schedule's first rate, so a
 *   client starts there in the moment before its slot gets a limit of its own.
 * A schedule's clock starts when it is set, or with `first-request` when the target next gets a
 * request (seen within a tick). Looping or once (then its last rate holds until cleared).
 *
 * An outage (a rate of 0: a trace's empty bins) holds the bucket back from one tick to the next
 * at the rate before it: a near-zero rate would leave chunks reserved at it waiting for minutes
 * after the outage, and a server rate of 0 means no limit. The burst follows the rate, as the same
 * time of it (the configured burst over the configured rate): a burst fixed in bytes would hold a
 * flow back at every step up (its bucket's lead, allowed at the low rate, is more than the high
 * rate allows), which costs a trace that changes every 100 ms a tenth of its mean.
 */
import type { ShapeLimits } from '../config/shape-spec.js';
import { clearClientLimit, clientLimits, MAX_CLIENT_LIMIT, setClientLimit, setSlotLimit } from '../shaping/client-limits.js';
import { activeFlows, findSlot, liveClients } from '../shaping/client-table.js';
import { costNanos, holdUntil } from '../shaping/gcra.js';
import { kServerActiveFlows, kServerTatNanos, kSlotTatNanos, overrideRateInt32, sentBytesInt32, slotBase } from '../shaping/layout.js';
import { hrClock } from '../shaping/server-shaper.js';
import { readLimits, setLimits } from '../shaping/shaper-memory.js';
import { clientKeyIn, type ControlledServer } from './controlled-server.js';
import { meanRate, rateAt, type RateSchedule } from '../config/rate-schedule.js';

/** An outage holds the bucket this far ahead at each tick (a little more than a tick apart). */
const OUTAGE_HOLD_NANOS = 80_000_000n;
/** A client gone from the table this long loses its clock (it starts over when it comes back). */
const CLOCK_KEPT_MS = 10 * 60_000;

/** `server`, `clients` (each client on its own clock), or one client by name (an address or id:VALUE). */
export type ScheduleTarget = 'server' | 'clients' | { readonly client: string };

export type ScheduleClock = 'apply' | 'first-request';

/** A target with one limit (not every client's). */
type OneTarget = Exclude<ScheduleTarget, 'clients'>;

/** One client's clock under a `clients` schedule. */
interface ClientClock {
  readonly startedAt: number;
  seenAt: number;
  applied: number;
}

interface Running {
  readonly server: number;
  readonly target: ScheduleTarget;
  readonly schedule: RateSchedule;
  readonly loop: boolean;
  readonly clock: ScheduleClock;
  /** When its clock started; null until the target's first request (first-request clock). */
  startedAt: number | null;
  /** The client's sent-bytes counter when the schedule was set (first-request of one client). */
  readonly sentAtSet: number | null;
  /** What the limit was when the schedule was set (a server's comes back when it is cleared). */
  readonly before: ShapeLimits;
  /** Seconds of rate the burst is. */
  readonly burstSeconds: number;
  applied: number;
  /** Per client, for a `clients` schedule. */
  readonly clocks: Map<string, ClientClock>;
}

export interface ScheduleInfo {
  readonly server: number;
  readonly target: string;
  readonly format: RateSchedule['format'];
  readonly loop: boolean;
  readonly clock: ScheduleClock;
  readonly lengthSeconds: number;
  readonly meanRate: number;
  /** Null until its clock starts. */
  readonly elapsedSeconds: number | null;
  readonly rate: number;
  readonly finished: boolean;
  /** Clients on their own clocks (a `clients` schedule). */
  readonly clients?: number;
}

/**
 * The rate an outage holds a bucket back at when nothing was applied before it (a schedule that
 * starts with one): its mean, so that the outage is no traffic rather than no limit.
 */
const nominalRate = (schedule: RateSchedule): number => Math.max(1, Math.min(MAX_CLIENT_LIMIT, Math.round(meanRate(schedule))));

const targetName = (target: ScheduleTarget): string => (typeof target === 'string' ? target : target.client);

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

  /** Starts `schedule` on `target` of server `server` (replacing one already there); applies its first rate when its clock runs. */
  set(server: number, target: ScheduleTarget, schedule: RateSchedule, loop: boolean, clock: ScheduleClock = 'apply'): ScheduleInfo {
    const view = this.#view(server);
    const before = readLimits(view);
    const key = `${server} ${targetName(target)}`;
    const previous = this.#running.get(key);
    let sentAtSet: number | null = null;
    if (typeof target === 'object' && clock === 'first-request') {
      const line = findSlot(view, this.#key(server, target.client));
      if (line >= 0) sentAtSet = Atomics.load(new Int32Array(view.buffer), sentBytesInt32(line));
    }
    const running: Running = {
      server,
      target,
      schedule,
      loop,
      clock: target === 'clients' ? 'first-request' : clock,
      startedAt: clock === 'apply' && target !== 'clients' ? this.#now() : null,
      sentAtSet,
      // A schedule replacing another keeps the limits (and the burst) from before the first.
      before: previous?.before ?? before,
      burstSeconds: previous?.burstSeconds ?? burstSeconds(target === 'server' ? before.server : before.client),
      applied: -1,
      clocks: new Map(),
    };
    if (target === 'clients') {
      // A client new to the table starts at the schedule's first rate, before its slot has its own.
      const first = Math.min(MAX_CLIENT_LIMIT, rateAt(schedule, 0, loop)) || nominalRate(schedule);
      setLimits(view, { server: before.server, client: { rate: first, burst: Math.min(MAX_CLIENT_LIMIT, Math.round(first * running.burstSeconds)) } });
    }
    // Running only once its first rate applied (a client limit refused, a full table...).
    this.#apply(running);
    this.#running.set(key, running);
    return this.#info(running);
  }

  /** Stops the schedule of `target`: a server's limit goes back to what it was, clients' own limits are cleared. */
  clear(server: number, target: ScheduleTarget): boolean {
    const key = `${server} ${targetName(target)}`;
    const running = this.#running.get(key);
    if (running === undefined) return false;
    this.#running.delete(key);
    const view = this.#view(server);
    if (target === 'server') setLimits(view, { server: running.before.server, client: readLimits(view).client });
    else if (target === 'clients') {
      setLimits(view, { server: readLimits(view).server, client: running.before.client });
      this.#eachClient(view, (line, client) => setSlotLimit(view, line, client, null));
    }
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

  /** Applies every schedule's rate for now (called about 20 times a second). */
  tick(): void {
    for (const running of this.#running.values()) this.#apply(running);
  }

  #apply(running: Running): void {
    const view = this.#view(running.server);
    const target = running.target;
    if (target === 'clients') return this.#applyEach(running, view);
    const now = this.#now();
    if (running.startedAt === null) {
      if (!this.#requested(running, target, view)) return;
      running.startedAt = now;
    }
    const scheduled = rateAt(running.schedule, now - running.startedAt, running.loop);
    if (scheduled === 0) {
      // Held at the rate before the outage; one at the very start has a rate set to hold it at.
      if (running.applied <= 0) this.#write(running, target, view, nominalRate(running.schedule));
      return this.#hold(running, target, view);
    }
    const rate = target === 'server' ? scheduled : Math.min(MAX_CLIENT_LIMIT, scheduled);
    if (rate !== running.applied) this.#write(running, target, view, rate);
  }

  #write(running: Running, target: OneTarget, view: BigInt64Array, rate: number): void {
    const burst = Math.min(MAX_CLIENT_LIMIT, Math.round(rate * running.burstSeconds));
    if (target === 'server') setLimits(view, { server: { rate, burst }, client: readLimits(view).client });
    else setClientLimit(view, this.#key(running.server, target.client), { rate, burst });
    running.applied = rate;
  }

  /** The target got a request since the schedule was set (a first-request clock starts). */
  #requested(running: Running, target: OneTarget, view: BigInt64Array): boolean {
    if (target === 'server') return Atomics.load(view, kServerActiveFlows) > 0n;
    const line = findSlot(view, this.#key(running.server, target.client));
    if (line < 0) return false;
    return activeFlows(view, line) > 0 || Atomics.load(new Int32Array(view.buffer), sentBytesInt32(line)) !== running.sentAtSet;
  }

  /** Every client in the table on its own clock, from when it was first seen; those with their own limit keep it. */
  #applyEach(running: Running, view: BigInt64Array): void {
    const now = this.#now();
    const words = new Int32Array(view.buffer);
    this.#eachClient(view, (line, client) => {
      const id = `${client.high}:${client.low}`;
      let clock = running.clocks.get(id);
      if (clock === undefined) {
        clock = { startedAt: now, seenAt: now, applied: -1 };
        running.clocks.set(id, clock);
      }
      clock.seenAt = now;
      const scheduled = Math.min(MAX_CLIENT_LIMIT, rateAt(running.schedule, now - clock.startedAt, running.loop));
      const rate = scheduled === 0 ? (clock.applied > 0 ? clock.applied : nominalRate(running.schedule)) : scheduled;
      const burst = Math.min(MAX_CLIENT_LIMIT, Math.round(rate * running.burstSeconds));
      if (scheduled === 0) holdUntil(view, slotBase(line) + kSlotTatNanos, hrClock() + OUTAGE_HOLD_NANOS, costNanos(burst, rate));
      // Compared with the slot itself: a cleared limit or a slot claimed anew has lost the rate written.
      if (scheduled === 0 || rate === Atomics.load(words, overrideRateInt32(line))) return;
      setSlotLimit(view, line, client, { rate, burst });
      clock.applied = rate;
    });
    for (const [id, clock] of running.clocks) if (now - clock.seenAt > CLOCK_KEPT_MS) running.clocks.delete(id);
  }

  /** Calls `visit` for each client in the table without a limit of its own. */
  #eachClient(view: BigInt64Array, visit: (line: number, client: { high: bigint; low: bigint }) => void): void {
    const own = new Set(clientLimits(view).map((entry) => `${entry.high}:${entry.low}`));
    for (const client of liveClients(view)) if (!own.has(`${client.high}:${client.low}`)) visit(client.line, client);
  }

  /** An outage: nothing leaves the target's bucket until the next tick (the rate stays as it was). */
  #hold(running: Running, target: OneTarget, view: BigInt64Array): void {
    const until = hrClock() + OUTAGE_HOLD_NANOS;
    const rate = running.applied;
    const tolerance = costNanos(Math.round(rate * running.burstSeconds), rate);
    if (target === 'server') return holdUntil(view, kServerTatNanos, until, tolerance);
    // Only a connected client has a bucket to hold.
    const line = findSlot(view, this.#key(running.server, target.client));
    if (line >= 0) holdUntil(view, slotBase(line) + kSlotTatNanos, until, tolerance);
  }

  #info(running: Running): ScheduleInfo {
    const elapsed = running.startedAt === null ? null : this.#now() - running.startedAt;
    return {
      server: running.server,
      target: targetName(running.target),
      format: running.schedule.format,
      loop: running.loop,
      clock: running.clock,
      lengthSeconds: running.schedule.lengthMs / 1000,
      meanRate: Math.round(meanRate(running.schedule)),
      elapsedSeconds: elapsed === null ? null : Math.round(elapsed) / 1000,
      rate: running.applied,
      finished: elapsed !== null && !running.loop && elapsed >= running.schedule.lengthMs,
      ...(running.target === 'clients' ? { clients: running.clocks.size } : {}),
    };
  }

  #view(server: number): BigInt64Array {
    return new BigInt64Array(this.#servers[server]!.shaper!);
  }

  #key(server: number, client: string) {
    return clientKeyIn(this.#servers[server]!, client);
  }
}
