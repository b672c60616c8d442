/**
 * Streams a body source to a uWS response. One state per response and three gates, each waited
 * on separately: the source (data read from disk or received from an upstream), the token gate
 * (bandwidth shaping, when the server is shaped) and the socket (uWS backpressure). The next
 * chunk is pulled only when all are open. Every entry point from a callback (data ready, tokens
 * due, socket writable) corks.
 *
 * Two modes: a known length is sent with `tryEnd` (uWS adds Content-Length and may take part of
 * a chunk), an unknown one with chunked `write` (uWS takes the whole chunk and reports
 * backpressure after the fact, so chunks must stay small: sources hand out bounded views).
 */
import type { HttpResponse } from '../../native-bindings/uws.js';
import type { BodySource } from '../files/body-source.js';
import type { TokenGate } from '../shaping/server-shaper.js';
import type { FaultPlan } from './response-faults.js';

type SenderState = 'idle' | 'writing' | 'waiting-source' | 'waiting-tokens' | 'waiting-socket' | 'stalled' | 'cutting' | 'done' | 'failed';

const NO_BYTES = new Uint8Array(0);

export type SendOutcome = 'complete' | 'failed';

/** A body of unknown length: `ended` once every byte was produced (and then `peek` is null when all were sent). */
export interface StreamSource extends BodySource {
  readonly ended: boolean;
}

export class BodySender {
  readonly #res: HttpResponse;
  readonly #source: BodySource;
  readonly #stream: StreamSource | null;
  readonly #gate: TokenGate | null;
  readonly #total: number;
  readonly #onEnd: (outcome: SendOutcome, error: Error | null) => void;
  #state: SenderState = 'idle';
  #sent = 0;
  /** Injected faults: the body stops at `stallAfter` for a while, or is cut at `cutAfter`. */
  readonly #faults: FaultPlan | null;
  /** The stall's end, or the cut after the tick that flushes the bytes before it. */
  #faultTimer: NodeJS.Timeout | null = null;
  #stalled = false;
  /** Allocated once: resuming from a callback pumps inside res.cork(). */
  readonly #pumpCorked = (): void => {
    this.#pump();
  };

  /**
   * `total` is the body length announced as Content-Length, or null for a chunked body (then
   * `source` is a StreamSource); `onEnd` runs once, when the last byte was handed to the socket
   * or the source failed (the connection is then closed). `gate` paces the body; the sender
   * closes it when the body ends either way.
   */
  constructor(
    res: HttpResponse,
    source: BodySource,
    total: number | null,
    gate: TokenGate | null,
    onEnd: (outcome: SendOutcome, error: Error | null) => void,
    faults: FaultPlan | null = null,
  ) {
    this.#faults = faults !== null && (faults.stallAfter !== null || faults.cutAfter !== null) ? faults : null;
    this.#res = res;
    this.#source = source;
    this.#stream = total === null ? (source as StreamSource) : null;
    this.#gate = gate;
    this.#total = total ?? -1;
    this.#onEnd = onEnd;
  }

  /** The limit its gate had in force when the body ended (0: none), for the access log. */
  limit = 0;

  /** Body bytes handed to the socket so far. */
  get sent(): number {
    return this.#sent;
  }

  /** Starts sending; the caller has written status and headers and holds the cork. */
  start(): void {
    this.#source.onReadable = () => this.#resume('waiting-source');
    if (this.#gate) this.#gate.onOpen = () => this.#resume('waiting-tokens');
    this.#res.onWritable(() => this.#resumeFromSocket());
    this.#state = 'writing';
    this.#pump();
  }

  /** The connection went away: stop and free the source and the gate. Safe in any state. */
  abort(): void {
    if (this.#state === 'done' || this.#state === 'failed') return;
    this.#state = 'failed';
    this.#release();
  }

  /** A gate other than the socket opened: continue, corked (we are in a callback). */
  #resume(from: SenderState): void {
    if (this.#state !== from) return;
    this.#state = 'writing';
    this.#res.cork(this.#pumpCorked);
  }

  /** uWS asks us to retry: true when nothing is left blocked on the socket. */
  #resumeFromSocket(): boolean {
    if (this.#state !== 'waiting-socket') return true;
    this.#state = 'writing';
    return this.#pump();
  }

  /** Sends while every gate is open; false when it stopped on socket backpressure. */
  #pump(): boolean {
    const res = this.#res;
    const source = this.#source;
    const gate = this.#gate;
    while (this.#state === 'writing') {
      let chunk = source.peek();
      if (chunk === null) {
        if (source.error !== null) this.#fail(source.error);
        else if (this.#stream?.ended) this.#complete(() => res.end());
        else this.#state = 'waiting-source';
        return true;
      }
      if (this.#faults !== null) {
        const room = this.#faultRoom(this.#faults);
        if (room === 0) return true;
        if (room < chunk.length) chunk = chunk.subarray(0, room);
      }
      if (gate) {
        const allowed = gate.admit(chunk.length);
        if (allowed === 0) {
          this.#state = 'waiting-tokens';
          return true;
        }
        if (allowed < chunk.length) chunk = chunk.subarray(0, allowed);
      }
      if (this.#stream !== null) {
        // write() takes the whole chunk; `false` means the socket is now behind.
        const ok = res.write(chunk);
        this.#sent += chunk.length;
        source.consume(chunk.length);
        gate?.spent(chunk.length);
        if (!ok) {
          source.noteBackpressure();
          this.#state = 'waiting-socket';
          return false;
        }
        continue;
      }
      const [ok, done] = res.tryEnd(chunk, this.#total);
      if (done) {
        // uWS counts only body bytes in the write offset; the last write completed the body.
        gate?.spent(this.#total - this.#sent);
        this.#sent = this.#total;
        this.#complete(null);
        return true;
      }
      // The write offset counts body bytes, so before this call it equalled #sent; ask uWS
      // only when the write was partial (a native call saved on every complete write).
      const written = ok ? chunk.length : res.getWriteOffset() - this.#sent;
      this.#sent += written;
      source.consume(written);
      gate?.spent(written);
      if (!ok) {
        source.noteBackpressure();
        this.#state = 'waiting-socket';
        return false;
      }
    }
    return true;
  }

  /**
   * Body bytes that may go before the next injected fault; 0 when it is due now: a stall starts
   * (the pump resumes after it) or the cut begins.
   */
  #faultRoom(faults: FaultPlan): number {
    let room = Number.POSITIVE_INFINITY;
    if (faults.cutAfter !== null) {
      if (this.#sent >= faults.cutAfter) {
        this.#state = 'cutting';
        // Cut before any byte: the length is announced all the same (uWS writes it with the first tryEnd).
        if (this.#sent === 0 && this.#total >= 0) this.#res.tryEnd(NO_BYTES, this.#total);
        // After this tick, once the cork holding the last bytes before the cut is flushed. uWS has
        // no call that says whether it still buffers bytes of a response: behind a reader that is
        // not reading at that moment, what uWS keeps (at most its 16 KiB cork buffer) is lost.
        this.#faultTimer = setTimeout(() => {
          this.#faultTimer = null;
          if (this.#state === 'cutting') this.#fail(null);
        }, 0);
        return 0;
      }
      room = faults.cutAfter - this.#sent;
    }
    if (faults.stallAfter !== null && !this.#stalled) {
      if (this.#sent >= faults.stallAfter) {
        this.#stalled = true;
        this.#state = 'stalled';
        this.#faultTimer = setTimeout(() => {
          this.#faultTimer = null;
          this.#resume('stalled');
        }, faults.stallMs);
        return 0;
      }
      room = Math.min(room, faults.stallAfter - this.#sent);
    }
    return room;
  }

  #complete(end: (() => void) | null): void {
    this.#state = 'done';
    this.#release();
    end?.();
    this.#onEnd('complete', null);
  }

  #release(): void {
    if (this.#faultTimer !== null) clearTimeout(this.#faultTimer);
    this.#faultTimer = null;
    this.#source.release();
    if (this.#gate) {
      this.limit = this.#gate.limit();
      this.#gate.close();
    }
  }

  /** The body cannot go on (a source error, or null: an injected cut after exactly `cutAfter` bytes). */
  #fail(error: Error | null): void {
    this.#state = 'failed';
    this.#release();
    this.#onEnd('failed', error);
    // Headers and part of the body are out: the only honest signal left is closing.
    this.#res.close();
  }
}
