/**
 * Piscina task for load benchmarks: a group of backlogged HTTP clients, each on its own socket
 * and (optionally) its own loopback source address, downloading one URL for a fixed time. Every
 * tick it records each client's cumulative body bytes, with the tick's real time, so windows can
 * be judged against what was actually elapsed.
 */
import { connect, type Socket } from 'node:net';

export interface ClientGroupTask {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  /** One entry per client: its source address (undefined: let the kernel choose). */
  readonly sourceAddresses: ReadonlyArray<string | undefined>;
  /** Extra request header lines per client (e.g. a client id), or none. */
  readonly headerLines?: ReadonlyArray<string>;
  /** Epoch milliseconds at which every group starts (so groups in other threads start together). */
  readonly startAt: number;
  readonly durationMs: number;
  readonly tickMs: number;
}

export interface ClientGroupResult {
  /** Milliseconds since the start, per tick. */
  readonly tickTimes: number[];
  /** Per client, cumulative body bytes at each tick. */
  readonly bytes: number[][];
  /** Per client, milliseconds from the start to its response headers (-1: none arrived). */
  readonly firstByteMs: number[];
  /** Clients whose connection failed or was closed before the end. */
  readonly failures: number;
}

const HEADER_END = Buffer.from('\r\n\r\n');

export default async function runClientGroup(task: ClientGroupTask): Promise<ClientGroupResult> {
  await new Promise((resolveStart) => setTimeout(resolveStart, Math.max(0, task.startAt - Date.now())));
  const started = performance.now();
  const counts = new Array<number>(task.sourceAddresses.length).fill(0);
  const inHeaders = new Array<boolean>(task.sourceAddresses.length).fill(true);
  const firstByteMs = new Array<number>(task.sourceAddresses.length).fill(-1);
  const sockets: Socket[] = [];
  let failures = 0;
  let stopping = false;
  task.sourceAddresses.forEach((localAddress, i) => {
    const socket = connect({ host: task.host, port: task.port, ...(localAddress ? { localAddress } : {}) });
    socket.setNoDelay(true);
    const extra = task.headerLines?.[i] ?? '';
    socket.on('connect', () => socket.write(`GET ${task.path} HTTP/1.1\r\nHost: ${task.host}\r\n${extra}\r\n`));
    socket.on('data', (data: Buffer) => {
      if (!inHeaders[i]) {
        counts[i]! += data.length;
        return;
      }
      const end = data.indexOf(HEADER_END);
      if (end >= 0) {
        inHeaders[i] = false;
        firstByteMs[i] = performance.now() - started;
        counts[i]! += data.length - end - HEADER_END.length;
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      if (!stopping) failures++;
    });
    sockets.push(socket);
  });
  const tickTimes: number[] = [];
  const bytes: number[][] = task.sourceAddresses.map(() => []);
  const record = (): void => {
    tickTimes.push(performance.now() - started);
    counts.forEach((count, i) => bytes[i]!.push(count));
  };
  record();
  await new Promise<void>((resolveRun) => {
    const timer = setInterval(() => {
      record();
      if (performance.now() - started >= task.durationMs) {
        clearInterval(timer);
        resolveRun();
      }
    }, task.tickMs);
  });
  stopping = true;
  for (const socket of sockets) socket.destroy();
  return { tickTimes, bytes, firstByteMs, failures };
}
