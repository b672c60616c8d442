/**
 * The one writer of the access log. Workers send whole lines in batches; writing them from this
 * thread only means lines from different workers never interleave or tear. Writes are buffered
 * by the stream (workers never wait on the disk), up to a bound: behind a stalled disk or a pipe
 * nobody reads, lines past MAX_PENDING_BYTES are dropped and counted, and the count is logged once
 * the stream drains. `reopen()` (SIGHUP) starts a new file after the old one was moved away by a
 * log rotator; a file that failed is retried then.
 */
import { createWriteStream, openSync, closeSync, type WriteStream } from 'node:fs';
import { StartupError, StartupErrorCode } from '../config/errors.js';
import { formatInteger } from '../config/rate-units.js';
import type { Subsystem } from './lifecycle.js';

/** Bytes the stream may hold unwritten before new lines are dropped. */
export const MAX_PENDING_BYTES = 8 * 1024 * 1024;
/** How long shutdown waits for the log to take its last lines. */
const CLOSE_WAIT_MS = 3000;

export class AccessLogWriter implements Subsystem {
  readonly name = 'access log';
  readonly #path: string;
  readonly #log: (line: string) => void;
  #stream: WriteStream | null = null;
  /** The current stream failed: lines are dropped until a reopen. */
  #failed = false;
  #droppedLines = 0;

  /** A log at `path` (`-`: standard output), opened by start(). */
  constructor(path: string, log: (line: string) => void) {
    this.#path = path;
    this.#log = log;
  }

  /** Opens the file for appending. Rejects with a StartupError if it cannot. */
  async start(): Promise<void> {
    if (this.#path !== '-') {
      try {
        closeSync(openSync(this.#path, 'a'));
      } catch (error) {
        throw new StartupError(StartupErrorCode.AccessLog, `cannot open the access log ${this.#path}: ${(error as Error).message}`);
      }
    }
    this.#stream = this.#open();
  }

  /** Appends whole lines (each ending in a newline). */
  write(lines: string): void {
    if (this.#stream === null) return;
    if (this.#failed || this.#stream.writableLength > MAX_PENDING_BYTES) {
      this.#droppedLines += countLines(lines);
      return;
    }
    this.#stream.write(lines);
  }

  /** Closes the current file and opens the path again (after rotation, or after a failure). */
  reopen(): void {
    if (this.#path === '-' || this.#stream === null) return;
    const old = this.#stream;
    this.#reportDropped();
    this.#stream = this.#open();
    this.#failed = false;
    old.end();
  }

  /**
   * Flushes and closes (standard output is flushed and left open). A log that cannot take the
   * last lines (a stalled pipe) gets CLOSE_WAIT_MS, then they are dropped: shutdown must end.
   */
  stop(): Promise<void> {
    this.#reportDropped();
    const stream = this.#stream;
    if (stream === null) return Promise.resolve();
    return new Promise((resolveClose) => {
      const timer = setTimeout(() => {
        this.#log(`access log ${this.#path}: could not write its last lines within ${CLOSE_WAIT_MS / 1000} s; dropped`);
        stream.destroy();
        resolveClose();
      }, CLOSE_WAIT_MS);
      stream.end(() => {
        clearTimeout(timer);
        resolveClose();
      });
    });
  }

  #open(): WriteStream {
    // Standard output too goes through an fs stream: process.stdout writes to a pipe
    // synchronously on Linux, so a reader that stalls would stall the coordinator.
    const stream = this.#path === '-' ? createWriteStream('/dev/stdout', { fd: 1, autoClose: false }) : createWriteStream(this.#path, { flags: 'a' });
    stream.on('drain', () => this.#reportDropped());
    stream.on('error', (error) => {
      // Only the current stream's failure stops writing; an old one's (after reopen) does not.
      if (stream !== this.#stream || this.#failed) return;
      this.#failed = true;
      this.#log(`access log ${this.#path}: ${error.message}; lines are dropped until it is reopened (SIGHUP)`);
    });
    return stream;
  }

  #reportDropped(): void {
    if (this.#droppedLines === 0) return;
    this.#log(`access log ${this.#path}: ${formatInteger(this.#droppedLines)} lines dropped while the log could not keep up`);
    this.#droppedLines = 0;
  }
}

function countLines(lines: string): number {
  let count = 0;
  for (let i = lines.indexOf('\n'); i >= 0; i = lines.indexOf('\n', i + 1)) count++;
  return count;
}
