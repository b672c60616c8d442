/**
 * The thread protocol between the coordinator and the workers: one discriminated union per
 * direction. Nothing per request or per chunk crosses it; shared state lives in shared memory.
 */
import type { SerializedError } from '../config/errors.js';
import type { Plan } from '../config/plan.js';
import type { FaultRule } from '../control/fault-rules.js';
import type { PlaylistFacts } from '../stats/playlist-facts.js';

/** Shared memory the coordinator allocates once; restarted workers map the same. */
export interface SharedMemory {
  /** Per server (by id): its shaper and its virtual hosts' (by index), null where not shaped. */
  readonly shapers: ReadonlyArray<ServerShaperMemory>;
  /** Shaping counters, one line per (server, worker slot). */
  readonly stats: SharedArrayBuffer;
  /** Response counters per (server, worker slot) (stats/response-stats.ts). */
  readonly responses: SharedArrayBuffer;
  /** Connections open and connections shed at the cap, all workers together. */
  readonly connections: SharedArrayBuffer;
  /** Bytes of small-file bodies all workers keep in memory (one budget per process). */
  readonly bodyBudget: SharedArrayBuffer;
  /** Up or down, per upstream of the plan (handlers/proxy/upstream-states.ts). */
  readonly upstreams: SharedArrayBuffer;
}

/** The shaper memory of one server and of each of its virtual hosts. */
export interface ServerShaperMemory {
  readonly server: SharedArrayBuffer | null;
  readonly vhosts: ReadonlyArray<SharedArrayBuffer | null>;
}

/** What a worker receives as `workerData`. */
export interface WorkerInit {
  /** The plan with every listen port resolved (no port 0 left). */
  readonly plan: Plan;
  readonly memory: SharedMemory;
  /** Slot of this worker, 0-based; stable across restarts of the slot. */
  readonly slot: number;
  /** Answer 503 until a `serve` message: the process has not switched to --run-as yet. */
  readonly held: boolean;
  /** Fault rules in force (control plane), of every server. */
  readonly faults: readonly FaultRule[];
}

export type WorkerToCoordinator =
  /** Every listener of this worker is up. */
  | { readonly type: 'ready' }
  /** A listener could not be opened; the worker closes itself after sending this. */
  | { readonly type: 'listen-failed'; readonly serverId: number; readonly error: SerializedError }
  /** An uncaught error: the worker has closed its sockets and exits after sending this. */
  | { readonly type: 'fatal'; readonly error: SerializedError }
  /** Access log lines (whole, newline-terminated), batched. */
  | { readonly type: 'access-log'; readonly lines: string }
  /** What a playlist this worker served says about renditions (once per playlist version). */
  | { readonly type: 'playlist'; readonly serverId: number; readonly facts: PlaylistFacts }
  /** The latest path of clients that started a body lately, by bucket key (`high:low`), per server. */
  | { readonly type: 'client-paths'; readonly serverId: number; readonly paths: ReadonlyArray<readonly [key: string, path: string, at: number]> }
  /** Drained after a `drain` request: all sockets closed, the worker exits next. */
  | { readonly type: 'drained'; readonly cutResponses: number };

/** The reports of what a worker observes, for the control plane. */
export type WorkerObservation = Extract<WorkerToCoordinator, { type: 'playlist' | 'client-paths' }>;

export type CoordinatorToWorker =
  /** Stop listening, finish in-flight responses within `graceMs`, close everything, exit. */
  | { readonly type: 'drain'; readonly graceMs: number }
  /** Fault injection: throw an uncaught error on the next tick (exercises supervision). */
  | { readonly type: 'inject-crash' }
  /** Start answering requests (the process switched to --run-as). */
  | { readonly type: 'serve' }
  /** The fault rules in force now, of every server (they replace the previous ones). */
  | { readonly type: 'faults'; readonly rules: readonly FaultRule[] };
