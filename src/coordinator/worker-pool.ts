/**
 * Spawns and supervises the worker threads. A worker that dies is replaced after a backoff that
 * grows with consecutive failures; the others keep serving meanwhile. Workers are never
 * terminated from outside: a worker thread torn down with uWS sockets open aborts the process, so
 * each worker closes its own sockets (on drain, on fatal error) and then exits.
 */
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import { StartupError, StartupErrorCode, type SerializedError } from '../config/errors.js';
import type { Plan } from '../config/plan.js';
import type { CoordinatorToWorker, SharedMemory, WorkerInit, WorkerToCoordinator } from '../worker/messages.js';
import { remaining, type Subsystem } from './lifecycle.js';
import type { FaultRule } from '../control/fault-rules.js';
import type { WorkerObservation } from '../worker/messages.js';

const WORKER_ENTRY = new URL('../worker/worker-main.js', import.meta.url);
const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 10_000;
/** A worker that ran this long without dying resets the backoff. */
const STABLE_AFTER_MS = 30_000;

export interface WorkerEvents {
  /** A worker slot is serving (first start or restart). */
  ready: [slot: number];
  /** A worker died unexpectedly; `restartInMs` until its replacement starts. */
  crashed: [slot: number, error: SerializedError | null, restartInMs: number];
  /** Every worker died and none may be restarted: nothing serves any more. */
  empty: [];
}

interface Slot {
  readonly index: number;
  worker: Worker | null;
  ready: boolean;
  startedAt: number;
  failures: number;
  restarts: number;
  lastError: SerializedError | null;
  restartTimer: NodeJS.Timeout | null;
}

export class WorkerPool extends EventEmitter<WorkerEvents> implements Subsystem {
  readonly name = 'workers';
  readonly #plan: Plan;
  readonly #memory: SharedMemory;
  readonly #log: (line: string) => void;
  readonly #onAccessLog: (lines: string) => void;
  readonly #slots: Slot[];
  #draining = false;
  /** Workers start answering 503 until release() (requests must wait for --run-as). */
  #held: boolean;
  #faults: readonly FaultRule[] = [];
  readonly #observers: Array<(observation: WorkerObservation) => void> = [];
  /** Why a dead worker is not replaced, once replacing it became impossible; null while it is. */
  #noRestart: string | null = null;

  constructor(plan: Plan, memory: SharedMemory, log: (line: string) => void, onAccessLog: (lines: string) => void = () => {}, held = false) {
    super();
    this.#held = held;
    this.#plan = plan;
    this.#memory = memory;
    this.#onAccessLog = onAccessLog;
    this.#log = log;
    this.#slots = Array.from({ length: plan.workers }, (_, index) => ({
      index,
      worker: null,
      ready: false,
      startedAt: 0,
      failures: 0,
      restarts: 0,
      lastError: null,
      restartTimer: null,
    }));
  }

  /**
   * Starts every worker; resolves when all are listening, rejects on the first startup failure
   * (after the workers that did start have closed their sockets and exited).
   */
  async start(): Promise<void> {
    try {
      await this.#startAll();
    } catch (error) {
      await this.drain(0);
      throw error;
    }
  }

  #startAll(): Promise<void> {
    return new Promise((resolveAll, reject) => {
      let waiting = this.#slots.length;
      const onStartupExit = (slot: Slot, error: SerializedError | null): void =>
        reject(new StartupError(StartupErrorCode.WorkerFailed, error?.message ?? `worker ${slot.index} exited during startup`));
      for (const slot of this.#slots) {
        this.#spawn(slot, {
          onReady: () => {
            if (--waiting === 0) resolveAll();
          },
          onStartupExit,
        });
      }
    });
  }

  /** Live view of the slots, for tests and status output. */
  status(): Array<{ slot: number; ready: boolean; restarts: number }> {
    return this.#slots.map((s) => ({ slot: s.index, ready: s.ready, restarts: s.restarts }));
  }

  /** Held workers start serving requests (the process has switched to --run-as). */
  release(): void {
    this.#held = false;
    for (const slot of this.#slots) this.#post(slot, { type: 'serve' });
  }

  /**
   * From now on a worker that dies is not replaced, for `reason` (after --run-as, a new listener
   * could not join the ports root's sockets hold); the others keep serving.
   */
  stopRestarting(reason: string): void {
    this.#noRestart = reason;
  }

  /** What workers observe of the traffic (playlists served, clients' latest paths), as it comes. */
  onObservation(listener: (observation: WorkerObservation) => void): void {
    this.#observers.push(listener);
  }

  /** The control plane's fault rules: to every worker now, and to workers started later. */
  setFaults(rules: readonly FaultRule[]): void {
    this.#faults = rules;
    for (const slot of this.#slots) this.#post(slot, { type: 'faults', rules });
  }

  /** Fault injection: make a worker throw an uncaught error. */
  injectCrash(slot: number): void {
    this.#post(this.#slots[slot], { type: 'inject-crash' });
  }

  /** Drains every worker by `deadline`, and says how many responses that cut. */
  async stop(deadline: number): Promise<void> {
    const graceMs = Math.round(remaining(deadline));
    const { cutResponses } = await this.drain(graceMs);
    if (cutResponses > 0) this.#log(`shutdown: ${cutResponses} response(s) cut after the ${graceMs} ms grace period`);
  }

  /** Asks every worker to drain and waits until all threads have exited. */
  async drain(graceMs: number): Promise<{ cutResponses: number }> {
    this.#draining = true;
    let cutResponses = 0;
    const exits = this.#slots.map((slot) => {
      if (slot.restartTimer) clearTimeout(slot.restartTimer);
      const worker = slot.worker;
      if (!worker) return Promise.resolve();
      return new Promise<void>((resolveExit) => {
        worker.on('message', (message: WorkerToCoordinator) => {
          if (message.type === 'drained') cutResponses += message.cutResponses;
        });
        worker.once('exit', () => resolveExit());
        this.#post(slot, { type: 'drain', graceMs });
      });
    });
    await Promise.all(exits);
    return { cutResponses };
  }

  #post(slot: Slot | undefined, message: CoordinatorToWorker): void {
    slot?.worker?.postMessage(message);
  }

  #spawn(
    slot: Slot,
    startup?: { onReady: () => void; onStartupExit: (slot: Slot, error: SerializedError | null) => void },
  ): void {
    const init: WorkerInit = { plan: this.#plan, memory: this.#memory, slot: slot.index, held: this.#held, faults: this.#faults };
    const worker = new Worker(WORKER_ENTRY, { workerData: init, stdout: false, stderr: false });
    slot.worker = worker;
    slot.ready = false;
    slot.startedAt = Date.now();
    slot.lastError = null;
    worker.on('message', (message: WorkerToCoordinator) => {
      switch (message.type) {
        case 'ready':
          slot.ready = true;
          startup?.onReady();
          this.emit('ready', slot.index);
          return;
        case 'listen-failed':
        case 'fatal':
          slot.lastError = message.error;
          return;
        case 'access-log':
          this.#onAccessLog(message.lines);
          return;
        case 'playlist':
        case 'client-paths':
          for (const listener of this.#observers) listener(message);
          return;
        case 'drained':
          return;
      }
    });
    // Errors thrown while the worker module loads arrive here rather than as a 'fatal' message.
    worker.on('error', (error) => {
      slot.lastError ??= { code: 'E_WORKER', message: error.message, ...(error.stack ? { stack: error.stack } : {}) };
    });
    worker.once('exit', (code) => {
      const wasReady = slot.ready;
      slot.worker = null;
      slot.ready = false;
      if (this.#draining) return;
      if (!wasReady && startup) {
        startup.onStartupExit(slot, slot.lastError);
        return;
      }
      if (this.#noRestart !== null) {
        const left = this.#slots.filter((s) => s.worker !== null).length;
        this.#log(`worker ${slot.index} died (${slot.lastError?.message ?? `exit code ${code}`}); it is not replaced: ${this.#noRestart}; ${left} left`);
        if (left === 0) this.emit('empty');
        return;
      }
      this.#scheduleRestart(slot, code);
    });
  }

  #scheduleRestart(slot: Slot, exitCode: number): void {
    if (Date.now() - slot.startedAt > STABLE_AFTER_MS) slot.failures = 0;
    const delay = Math.min(FIRST_BACKOFF_MS * 2 ** slot.failures, MAX_BACKOFF_MS);
    slot.failures++;
    const reason = slot.lastError ? `${slot.lastError.message}` : `exit code ${exitCode}`;
    this.#log(`worker ${slot.index} died (${reason}); restarting in ${delay} ms`);
    if (slot.lastError?.stack) this.#log(slot.lastError.stack);
    this.emit('crashed', slot.index, slot.lastError, delay);
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = null;
      slot.restarts++;
      this.#spawn(slot);
    }, delay);
  }
}
