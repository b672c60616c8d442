/**
 * A proxied response body on its way from the upstream to the respond layer: a small queue of
 * the chunks undici delivered. Above HIGH_WATER bytes queued the upstream is paused, below
 * LOW_WATER resumed, so memory per response stays bounded whatever the body size and however
 * slowly (shaped, or a slow client) it drains. No uWS here.
 */
import type { StreamSource } from '../../respond/body-sender.js';

const HIGH_WATER = 256 * 1024;
const LOW_WATER = 64 * 1024;
/** Largest view handed out: chunked writes take whole views, so keep them small. */
const MAX_VIEW = 64 * 1024;

/** How the body talks back to the upstream request. */
export interface UpstreamFlow {
  pause(): void;
  resume(): void;
  /** The client side is done with the body (sent, or gone): stop the upstream request if it still runs. */
  abort(): void;
}

export class UpstreamBody implements StreamSource {
  /** Content-Length of the upstream response, or -1 when it did not say (sent chunked). */
  readonly length: number;
  error: Error | null = null;
  ended = false;
  onReadable: (() => void) | null = null;
  readonly #flow: UpstreamFlow;
  readonly #queue: Buffer[] = [];
  /** Sent bytes of the first queued chunk. */
  #offset = 0;
  #queued = 0;
  #received = 0;
  #paused = false;
  /** The sender found nothing to send: tell it when something arrives. */
  #starved = false;
  #released = false;

  constructor(length: number, flow: UpstreamFlow) {
    this.length = length;
    this.#flow = flow;
  }

  /** A chunk from the upstream. */
  push(chunk: Buffer): void {
    if (this.#released || chunk.length === 0) return;
    this.#queue.push(chunk);
    this.#queued += chunk.length;
    this.#received += chunk.length;
    if (!this.#paused && this.#queued > HIGH_WATER) {
      this.#paused = true;
      this.#flow.pause();
    }
    this.#wake();
  }

  /** The upstream finished the body. A body shorter than its Content-Length is an error. */
  end(): void {
    if (this.length >= 0 && this.#received < this.length) {
      this.fail(new Error(`the upstream ended the body after ${this.#received} of ${this.length} bytes`));
      return;
    }
    this.ended = true;
    this.#wake();
  }

  /** The upstream request failed mid-body. */
  fail(error: Error): void {
    this.error ??= error;
    this.#wake();
  }

  peek(): Uint8Array | null {
    const first = this.#queue[0];
    if (first === undefined || this.error !== null) {
      this.#starved = true;
      return null;
    }
    const end = Math.min(first.length, this.#offset + MAX_VIEW);
    return first.subarray(this.#offset, end);
  }

  consume(n: number): void {
    this.#queued -= n;
    this.#offset += n;
    while (this.#queue.length > 0 && this.#offset >= this.#queue[0]!.length) {
      this.#offset -= this.#queue.shift()!.length;
    }
    if (this.#paused && this.#queued < LOW_WATER) {
      this.#paused = false;
      this.#flow.resume();
    }
  }

  noteBackpressure(): void {}

  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#queue.length = 0;
    this.#queued = 0;
    // A body received whole leaves its keep-alive connection to the pool.
    if (!this.ended && !(this.length >= 0 && this.#received >= this.length)) this.#flow.abort();
  }

  #wake(): void {
    if (!this.#starved) return;
    this.#starved = false;
    this.onReadable?.();
  }
}
