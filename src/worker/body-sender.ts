/**
 * Streams a body source to a uWS response with backpressure. One state per response; the
 * socket and the source are separate gates, and the next chunk is pulled only when both are
 * open. Every entry point from a callback (source readable, socket writable) corks the response.
 */
import type { HttpResponse } from '../../native-bindings/uws.js';
import type { BodySource } from '../http/body-source.js';

type SenderState = 'idle' | 'writing' | 'waiting-source' | 'waiting-socket' | 'done' | 'failed';

export type SendOutcome = 'complete' | 'failed';

export class BodySender {
  readonly #res: HttpResponse;
  readonly #source: BodySource;
  readonly #total: number;
  readonly #onEnd: (outcome: SendOutcome, error: Error | null) => void;
  #state: SenderState = 'idle';
  #sent = 0;

  /**
   * `total` is the body length announced as Content-Length; `onEnd` runs once, when the last byte
   * was handed to the socket or the source failed (the connection is then closed).
   */
  constructor(res: HttpResponse, source: BodySource, total: number, onEnd: (outcome: SendOutcome, error: Error | null) => void) {
    this.#res = res;
    this.#source = source;
    this.#total = total;
    this.#onEnd = onEnd;
  }

  /** Body bytes handed to the socket so far. */
  get sent(): number {
    return this.#sent;
  }

  /** Starts sending; the caller has written status and headers and holds the cork. */
  start(): void {
    this.#source.onReadable = () => this.#resumeFromSource();
    this.#res.onWritable(() => this.#resumeFromSocket());
    this.#state = 'writing';
    this.#pump();
  }

  /** The connection went away: stop and free the source. Safe in any state. */
  abort(): void {
    if (this.#state === 'done' || this.#state === 'failed') return;
    this.#state = 'failed';
    this.#source.release();
  }

  #resumeFromSource(): void {
    if (this.#state !== 'waiting-source') return;
    this.#state = 'writing';
    this.#res.cork(() => this.#pump());
  }

  /** uWS asks us to retry: true when nothing is left blocked on the socket. */
  #resumeFromSocket(): boolean {
    if (this.#state !== 'waiting-socket') return true;
    this.#state = 'writing';
    return this.#pump();
  }

  /** Sends while both gates are open; false when it stopped on socket backpressure. */
  #pump(): boolean {
    const res = this.#res;
    const source = this.#source;
    while (this.#state === 'writing') {
      const chunk = source.peek();
      if (chunk === null) {
        if (source.error !== null) this.#fail(source.error);
        else this.#state = 'waiting-source';
        return true;
      }
      const before = res.getWriteOffset();
      const [ok, done] = res.tryEnd(chunk, this.#total);
      if (done) {
        this.#sent = this.#total;
        this.#state = 'done';
        source.release();
        this.#onEnd('complete', null);
        return true;
      }
      const written = res.getWriteOffset() - before;
      this.#sent += written;
      source.consume(written);
      if (!ok) {
        source.noteBackpressure();
        this.#state = 'waiting-socket';
        return false;
      }
    }
    return true;
  }

  #fail(error: Error): void {
    this.#state = 'failed';
    this.#source.release();
    this.#onEnd('failed', error);
    // Headers and part of the body are out: the only honest signal left is closing.
    this.#res.close();
  }
}
