/**
 * Judging shaped downloads: aggregate against burst + rate x time, steady per-client rates
 * against their share, Jain's fairness, and the worst rate a backlogged client saw over 1-s and
 * 100-ms windows.
 */
import { jainIndex } from '../../src/stats/fairness.js';
import type { ClientGroupResult } from './client-worker.js';

export interface ClientTimeline {
  readonly times: readonly number[];
  readonly bytes: readonly number[];
  /** When its response began (ms from the start); its own allowance starts then. */
  readonly firstByteMs: number;
}

/** The configured limits in bytes/s and bytes; rate 0 = unlimited. */
export interface ConfiguredLimits {
  readonly serverRate: number;
  readonly serverBurst: number;
  readonly clientRate: number;
  readonly clientBurst: number;
}

export interface ShapingVerdict {
  /** Bytes all clients received by the end. */
  readonly aggregateBytes: number;
  readonly elapsedSec: number;
  /** (achieved - expected) / expected, in percent. */
  readonly aggregateErrorPct: number;
  /** Mean steady-state rate per client, bytes/s. */
  readonly meanClientRate: number;
  readonly minClientRate: number;
  readonly maxClientRate: number;
  readonly jain: number;
  /** Largest relative deviation (percent) of any client's rate over any 1-s window. */
  readonly worstSecondPct: number;
  /** Largest relative deviation (percent) of any client's rate over any 100-ms window. */
  readonly worst100msPct: number;
  readonly failures: number;
}

export function timelines(groups: readonly ClientGroupResult[]): ClientTimeline[] {
  return groups.flatMap((group) =>
    group.bytes.map((bytes, i) => ({ times: group.tickTimes, bytes, firstByteMs: group.firstByteMs[i]! })),
  );
}

/**
 * What the limits allow all clients by the end: each client's bucket from its own first byte
 * (connecting a thousand clients takes a while), the server's from the first client's, bursts
 * included. Connections of one address (`perAddress`) share a client bucket.
 */
export function allowedBytes(clients: readonly ClientTimeline[], limits: ConfiguredLimits, perAddress: number): number {
  const end = Math.max(...clients.map((c) => c.times[c.times.length - 1]!));
  const started = clients.filter((c) => c.firstByteMs >= 0);
  const first = Math.min(...started.map((c) => c.firstByteMs));
  const server = limits.serverRate === 0 ? Infinity : limits.serverBurst + (limits.serverRate * (end - first)) / 1000;
  let client = 0;
  for (let i = 0; i < started.length; i += perAddress) {
    const group = started.slice(i, i + perAddress);
    const groupFirst = Math.min(...group.map((c) => c.firstByteMs));
    client += limits.clientRate === 0 ? Infinity : limits.clientBurst + (limits.clientRate * (end - groupFirst)) / 1000;
  }
  return Math.min(server, client);
}

/**
 * `expected` is what the configured limits allow (allowedBytes); `share` is the steady rate each
 * client should get; windows are judged from `steadyFromMs` on (after the bursts).
 */
export function judge(
  clients: readonly ClientTimeline[],
  failures: number,
  expected: number,
  share: number,
  steadyFromMs: number,
): ShapingVerdict {
  const elapsedSec = Math.max(...clients.map((c) => c.times[c.times.length - 1]!)) / 1000;
  const aggregateBytes = clients.reduce((sum, c) => sum + c.bytes[c.bytes.length - 1]!, 0);
  const steadyRates = clients.map((c) => steadyRate(c, steadyFromMs));
  return {
    aggregateBytes,
    elapsedSec,
    aggregateErrorPct: ((aggregateBytes - expected) / expected) * 100,
    meanClientRate: steadyRates.reduce((a, b) => a + b, 0) / steadyRates.length,
    minClientRate: Math.min(...steadyRates),
    maxClientRate: Math.max(...steadyRates),
    jain: jainIndex(steadyRates),
    worstSecondPct: worstWindow(clients, 1000, share, steadyFromMs),
    worst100msPct: worstWindow(clients, 100, share, steadyFromMs),
    failures,
  };
}

function steadyRate(client: ClientTimeline, fromMs: number): number {
  const start = client.times.findIndex((t) => t >= fromMs);
  const end = client.times.length - 1;
  if (start < 0 || start >= end) return 0;
  return ((client.bytes[end]! - client.bytes[start]!) / (client.times[end]! - client.times[start]!)) * 1000;
}

function worstWindow(clients: readonly ClientTimeline[], windowMs: number, share: number, fromMs: number): number {
  let worst = 0;
  for (const { times, bytes } of clients) {
    let j = 0;
    for (let i = times.findIndex((t) => t >= fromMs); i >= 0 && i < times.length; i++) {
      j = Math.max(j, i + 1);
      // The first tick at least a window later (ticks are about 100 ms apart, never exact).
      while (j < times.length && times[j]! - times[i]! < windowMs * 0.95) j++;
      if (j >= times.length) break;
      const rate = ((bytes[j]! - bytes[i]!) / (times[j]! - times[i]!)) * 1000;
      worst = Math.max(worst, Math.abs(rate - share) / share);
    }
  }
  return worst * 100;
}
