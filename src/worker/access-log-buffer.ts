/**
 * A worker's access log lines, sent to the coordinator (the only writer) in batches: at 64 KiB
 * or every 100 ms, whichever comes first, and before the worker exits. One message per batch,
 * never one per line.
 */

const FLUSH_BYTES = 64 * 1024;
const FLUSH_MS = 100;

export class AccessLogBuffer {
  readonly #send: (lines: string) => void;
  #lines: string[] = [];
  #bytes = 0;
  #timer: NodeJS.Timeout | null = null;

  constructor(send: (lines: string) => void) {
    this.#send = send;
  }

  append(line: string): void {
    this.#lines.push(line);
    this.#bytes += line.length + 1;
    if (this.#bytes >= FLUSH_BYTES) this.flush();
    else if (this.#timer === null) {
      this.#timer = setTimeout(() => this.flush(), FLUSH_MS);
      // Pending log lines alone must not keep a draining worker alive: drain flushes them.
      this.#timer.unref();
    }
  }

  flush(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (this.#lines.length === 0) return;
    const lines = `${this.#lines.join('\n')}\n`;
    this.#lines = [];
    this.#bytes = 0;
    this.#send(lines);
  }
}
