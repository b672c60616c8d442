/**
 * A player's buffer against the wall clock: media seconds downloaded, media seconds played.
 * Playback starts once `startup` seconds are buffered, stalls when the buffer runs dry before the
 * last segment arrived, and resumes once `resume` seconds are buffered again. Pure: times are
 * passed in (milliseconds, any monotonic clock).
 */
export interface BufferOptions {
  /** Seconds buffered before playback starts. */
  readonly startup: number;
  /** The player stops fetching while this much is buffered. */
  readonly target: number;
  /** Seconds buffered after a stall before playback resumes. */
  readonly resume: number;
}

export const DEFAULT_BUFFER: BufferOptions = Object.freeze({ startup: 2, target: 30, resume: 2 });

export interface Stall {
  /** When it began, ms after the session started. */
  readonly at: number;
  readonly ms: number;
  /** Media seconds played when it began (where in the stream the picture froze). */
  readonly position: number;
}

export type PlaybackState = 'starting' | 'playing' | 'stalled' | 'ended';

export class PlaybackBuffer {
  state: PlaybackState = 'starting';
  /** Milliseconds from the session start to the first frame, or null while starting. */
  startupMs: number | null = null;
  readonly stalls: Stall[] = [];
  readonly #options: BufferOptions;
  readonly #startedAt: number;
  #buffered = 0;
  #played = 0;
  #lastUpdate: number;
  #stallStart = 0;
  /** Every segment is in: running dry is the end, not a stall. */
  #complete = false;

  constructor(options: BufferOptions, now: number) {
    this.#options = options;
    this.#startedAt = now;
    this.#lastUpdate = now;
  }

  /** Seconds buffered ahead of the playhead at `now`. */
  level(now: number): number {
    this.#advance(now);
    return this.#buffered - this.#played;
  }

  /** Seconds of media played by `now`. */
  played(now: number): number {
    this.#advance(now);
    return this.#played;
  }

  /** A segment of `seconds` arrived at `now`. */
  add(seconds: number, now: number): void {
    this.#advance(now);
    this.#buffered += seconds;
    const level = this.#buffered - this.#played;
    if (this.state === 'starting' && level >= this.#options.startup) {
      this.state = 'playing';
      this.startupMs = now - this.#startedAt;
    } else if (this.state === 'stalled' && level >= this.#options.resume) {
      this.state = 'playing';
      this.#endStall(now);
    }
  }

  /** No more segments will come: what is buffered plays out (a short first one starts now). */
  finish(now: number): void {
    this.#advance(now);
    this.#complete = true;
    if (this.state === 'starting' && this.#buffered > 0) {
      this.state = 'playing';
      this.startupMs = now - this.#startedAt;
    } else if (this.state === 'stalled') {
      this.#endStall(now);
      this.state = this.#buffered > this.#played ? 'playing' : 'ended';
    }
  }

  /** Milliseconds until the buffer runs dry at the current pace (Infinity when not playing). */
  msUntilEmpty(now: number): number {
    this.#advance(now);
    return this.state === 'playing' ? (this.#buffered - this.#played) * 1000 : Infinity;
  }

  /** Closes an open stall at `now` (the session is cut short), so it counts. */
  close(now: number): void {
    this.#advance(now);
    if (this.state === 'stalled') {
      this.#endStall(now);
      this.state = 'ended';
    }
  }

  /** Nothing plays during a stall, so the played time is where it began. */
  #endStall(now: number): void {
    this.stalls.push({ at: this.#stallStart - this.#startedAt, ms: now - this.#stallStart, position: this.#played });
  }

  #advance(now: number): void {
    if (this.state === 'playing') {
      const available = this.#buffered - this.#played;
      const elapsed = (now - this.#lastUpdate) / 1000;
      if (elapsed >= available) {
        this.#played = this.#buffered;
        if (this.#complete) this.state = 'ended';
        else {
          this.state = 'stalled';
          this.#stallStart = this.#lastUpdate + available * 1000;
        }
      } else {
        this.#played += elapsed;
      }
    }
    this.#lastUpdate = now;
  }
}
