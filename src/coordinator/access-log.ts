/**
 * The one writer of the access log. Workers send whole lines in batches; writing them from this
 * thread only means lines from different workers never interleave or tear. Writes are buffered
 * by the stream (workers never wait on the disk); `reopen()` (SIGHUP) starts a new file after
 * the old one was moved away by a log rotator.
 */
import { createWriteStream, openSync, closeSync, type WriteStream } from 'node:fs';
import { StartupError, StartupErrorCode } from '../config/errors.js';

export class AccessLogWriter {
  readonly #path: string;
  readonly #log: (line: string) => void;
  #stream: WriteStream | NodeJS.WriteStream;
  #failed = false;

  /** Opens `path` for appending (`-`: standard output). Throws a StartupError if it cannot. */
  constructor(path: string, log: (line: string) => void) {
    this.#path = path;
    this.#log = log;
    if (path !== '-') {
      try {
        closeSync(openSync(path, 'a'));
      } catch (error) {
        throw new StartupError(StartupErrorCode.AccessLog, `cannot open the access log ${path}: ${(error as Error).message}`);
      }
    }
    this.#stream = this.#open();
  }

  /** Appends whole lines (each ending in a newline). */
  write(lines: string): void {
    this.#stream.write(lines);
  }

  /** Closes the current file and opens the path again (after rotation). */
  reopen(): void {
    if (this.#path === '-') return;
    const old = this.#stream;
    this.#stream = this.#open();
    (old as WriteStream).end();
  }

  /** Flushes and closes (standard output is left open). */
  close(): Promise<void> {
    if (this.#path === '-') return Promise.resolve();
    return new Promise((resolveClose) => (this.#stream as WriteStream).end(resolveClose));
  }

  #open(): WriteStream | NodeJS.WriteStream {
    if (this.#path === '-') return process.stdout;
    const stream = createWriteStream(this.#path, { flags: 'a' });
    stream.on('error', (error) => {
      if (this.#failed) return;
      this.#failed = true;
      this.#log(`access log ${this.#path}: ${error.message}`);
    });
    return stream;
  }
}
