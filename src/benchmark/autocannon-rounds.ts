/**
 * Side-by-side autocannon measurements: every target measured in turn for each scenario, in
 * interleaved rounds (so machine noise hits all alike), reduced to medians of req/s, MB/s,
 * latency and, when the target's CPU can be read, its CPU per request. Used by `mediacast bench`
 * and the developer benchmarks under bench/.
 */
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

/** Keeps autocannon from decoding bodies into strings (see the file). */
const DISCARD_BODY = fileURLToPath(new URL('./discard-body.cjs', import.meta.url));

export interface Scenario {
  readonly name: string;
  readonly path: string;
  readonly connections: number;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface Target {
  readonly name: string;
  readonly url: string;
  /** CPU seconds the target has used so far, when it can be read (a local process). */
  readonly cpuSeconds?: () => number;
}

export interface Measurement {
  readonly reqPerSec: number;
  readonly bytesPerSec: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  /** Target CPU microseconds per request; NaN when unknown. */
  readonly cpuPerRequestUs: number;
}

export interface RoundOptions {
  /** Seconds per measurement. */
  readonly duration: number;
  readonly rounds: number;
  /** autocannon's own worker threads, so the load generator is not the bottleneck. */
  readonly clientWorkers: number;
}

export function runAutocannon(options: autocannon.Options): Promise<autocannon.Result> {
  return autocannon({
    ...options,
    // In workers mode autocannon takes a module path here; its typings only know functions.
    setupClient: DISCARD_BODY as unknown as autocannon.Options['setupClient'],
  });
}

async function measure(target: Target, scenario: Scenario, options: RoundOptions): Promise<Measurement> {
  const cpuBefore = target.cpuSeconds?.() ?? NaN;
  const result = await runAutocannon({
    url: new URL(scenario.path.replace(/^\//, ''), target.url).href,
    connections: scenario.connections,
    duration: options.duration,
    workers: Math.min(options.clientWorkers, scenario.connections),
    ...(scenario.headers ? { headers: { ...scenario.headers } } : {}),
  });
  const cpu = (target.cpuSeconds?.() ?? NaN) - cpuBefore;
  return {
    reqPerSec: result.requests.average,
    bytesPerSec: result.throughput.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx + result.timeouts,
    cpuPerRequestUs: (cpu / result.requests.total) * 1e6,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function medianOf(runs: Measurement[]): Measurement {
  const pick = (key: keyof Measurement): number => median(runs.map((r) => r[key]));
  return {
    reqPerSec: pick('reqPerSec'),
    bytesPerSec: pick('bytesPerSec'),
    p50: pick('p50'),
    p99: pick('p99'),
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
    cpuPerRequestUs: pick('cpuPerRequestUs'),
  };
}

/** Medians per `scenario|target` name, reporting each as it is known. */
export async function measureAll(
  targets: readonly Target[],
  scenarios: readonly Scenario[],
  options: RoundOptions,
  report: (line: string) => void = (line) => console.log(line),
): Promise<Map<string, Measurement>> {
  const results = new Map<string, Measurement>();
  for (const scenario of scenarios) {
    const runs = new Map<string, Measurement[]>(targets.map((t) => [t.name, []]));
    for (let round = 0; round < options.rounds; round++) {
      for (const target of targets) runs.get(target.name)!.push(await measure(target, scenario, options));
    }
    for (const target of targets) {
      const m = medianOf(runs.get(target.name)!);
      results.set(`${scenario.name}|${target.name}`, m);
      report(`  ${scenario.name}, ${target.name}: ${Math.round(m.reqPerSec).toLocaleString('en-US')} req/s, ${(m.bytesPerSec / 1e6).toFixed(1)} MB/s`);
    }
  }
  return results;
}
