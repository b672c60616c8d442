/**
 * One simulated player: fetches the manifest, then segments in real time under a buffer model,
 * choosing renditions by ABR, and records what a viewer would have seen. A VOD played to its end
 * starts over as a new session until the deadline (or the loop count). Live playlists are
 * reloaded every target duration and their window followed from the live edge.
 */
import { Agent, request, type Dispatcher } from 'undici';
import { BandwidthEstimator, chooseRendition, type AbrOptions } from './abr.js';
import { loadDash } from './dash-manifest.js';
import { loadHls, mediaRendition, parseM3u8 } from './hls-manifest.js';
import { PlaybackBuffer, type BufferOptions, type Stall } from './playback-buffer.js';
import type { Presentation, Rendition, Segment } from './presentation.js';

export interface PlayerOptions {
  readonly url: string;
  readonly abr: AbrOptions;
  readonly buffer: BufferOptions;
  /** Local address to connect from (per-IP shaping per viewer), or null. */
  readonly source: string | null;
  /** Header and value identifying this viewer (`--client-id-header`), or null. */
  readonly clientId: readonly [string, string] | null;
  /** When the player stops (performance.now() clock). */
  readonly deadline: number;
  /** Sessions at most (0: until the deadline). */
  readonly loops: number;
  /** Called with the bytes of each finished download (live progress). */
  readonly onBytes?: (bytes: number) => void;
  /** Called with each segment's download throughput in bits/s (kept in a histogram, not a list). */
  readonly onThroughput?: (bitsPerSecond: number) => void;
  /** Called when a stall ends (live progress). */
  readonly onStall?: () => void;
}

export interface Switch {
  /** ms after the session start. */
  readonly at: number;
  readonly from: number;
  readonly to: number;
}

export interface SessionRecord {
  /** ms from the first request to the first frame; null when playback never started. */
  readonly startupMs: number | null;
  readonly stalls: readonly Stall[];
  readonly switches: readonly Switch[];
  /** Media seconds played, and per rendition (by index). */
  readonly playedSeconds: number;
  readonly secondsPerRendition: readonly number[];
  /** Time-weighted average of the declared bandwidth of what was played (bits/s). */
  readonly averageBitrate: number;
  /** Stalled time / (played time + stalled time). */
  readonly rebufferRatio: number;
  readonly bytes: number;
  readonly segments: number;
  readonly errors: number;
  readonly retries: number;
  /** The session reached the end of a VOD (rather than the deadline). */
  readonly completed: boolean;
}

export interface PlayerRecord {
  readonly id: number;
  readonly source: string | null;
  readonly renditions: ReadonlyArray<{ readonly bandwidth: number; readonly label: string }>;
  readonly sessions: readonly SessionRecord[];
  /** A failure that stopped the player (manifest unreachable), or null. */
  readonly failure: string | null;
}

const RETRIES = 2;
const RETRY_DELAY_MS = 500;
/** Longest sleep between checks of the buffer and the deadline. */
const MAX_WAIT_MS = 500;

class HttpError extends Error {}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

export async function runPlayer(id: number, options: PlayerOptions): Promise<PlayerRecord> {
  const agent = new Agent({ keepAliveTimeout: 10_000, ...(options.source ? { localAddress: options.source } : {}) });
  const headers: Record<string, string> = options.clientId ? { [options.clientId[0]]: options.clientId[1] } : {};
  const sessions: SessionRecord[] = [];
  let renditions: PlayerRecord['renditions'] = [];
  try {
    while (performance.now() < options.deadline && (options.loops === 0 || sessions.length < options.loops)) {
      const session = new Session(agent, headers, options);
      const record = await session.run();
      renditions = session.renditions;
      sessions.push(record);
      if (!record.completed) break;
    }
    return { id, source: options.source, renditions, sessions, failure: null };
  } catch (error) {
    return { id, source: options.source, renditions, sessions, failure: error instanceof Error ? error.message : String(error) };
  } finally {
    await agent.close();
  }
}

class Session {
  renditions: PlayerRecord['renditions'] = [];
  readonly #agent: Dispatcher;
  readonly #headers: Record<string, string>;
  readonly #options: PlayerOptions;
  readonly #startedAt = performance.now();
  #bytes = 0;
  #errors = 0;
  #retries = 0;

  constructor(agent: Dispatcher, headers: Record<string, string>, options: PlayerOptions) {
    this.#agent = agent;
    this.#headers = headers;
    this.#options = options;
  }

  async run(): Promise<SessionRecord> {
    const { url, abr, deadline } = this.#options;
    const manifest = await this.#text(url);
    const presentation: Presentation = /<MPD[\s>]/.test(manifest) ? loadDash(url, manifest) : await loadHls(url, manifest, (u) => this.#text(u));
    if (presentation.renditions.length === 0) throw new Error(`${url}: no renditions in the manifest`);
    this.renditions = presentation.renditions.map(({ bandwidth, label }) => ({ bandwidth, label }));
    const buffer = new PlaybackBuffer(this.#options.buffer, this.#startedAt);
    const estimator = new BandwidthEstimator(abr);
    const switches: Switch[] = [];
    const secondsPerRendition = presentation.renditions.map(() => 0);
    let current = chooseRendition(presentation.renditions, 0, estimator.estimate, 0, abr);
    const inits = new Set<string>();
    const cursor = new SegmentCursor(presentation);
    let segments = 0;
    let completed = false;
    while (performance.now() < deadline) {
      // Fetch while below the buffer target; meanwhile playback goes on.
      const level = buffer.level(performance.now());
      if (level >= this.#options.buffer.target) {
        await sleep(Math.min(MAX_WAIT_MS, (level - this.#options.buffer.target) * 1000 + 10, deadline - performance.now()));
        continue;
      }
      const next = chooseRendition(presentation.renditions, current, estimator.estimate, level, abr);
      if (next !== current) {
        switches.push({ at: performance.now() - this.#startedAt, from: current, to: next });
        current = next;
      }
      const segment = await cursor.next(current, (u) => this.#text(u), deadline);
      if (segment === null) {
        completed = !presentation.live;
        break;
      }
      if (segment === 'wait') continue;
      const rendition = presentation.renditions[current]!;
      if (rendition.init !== null && !inits.has(rendition.init)) {
        inits.add(rendition.init);
        await this.#fetchCounted(rendition.init, null);
      }
      const fetched = await this.#fetchCounted(segment.url, estimator);
      if (presentation.audio) {
        const audio = presentation.audio.segments[Math.min(cursor.index - 1, presentation.audio.segments.length - 1)];
        if (presentation.audio.init !== null && !inits.has(presentation.audio.init)) {
          inits.add(presentation.audio.init);
          await this.#fetchCounted(presentation.audio.init, null);
        }
        if (audio) await this.#fetchCounted(audio.url, estimator);
      }
      if (fetched) {
        const stalls = buffer.stalls.length;
        buffer.add(segment.duration, performance.now());
        if (buffer.stalls.length > stalls) this.#options.onStall?.();
        secondsPerRendition[current]! += segment.duration;
        segments++;
      }
    }
    if (completed) {
      // Play out what is buffered (within the deadline).
      buffer.finish(performance.now());
      const left = Math.min(buffer.msUntilEmpty(performance.now()), deadline - performance.now());
      if (Number.isFinite(left)) await sleep(left);
      completed = buffer.state === 'ended' || buffer.level(performance.now()) <= 0.001;
    }
    const now = performance.now();
    buffer.close(now);
    const played = buffer.played(now);
    const stalledMs = buffer.stalls.reduce((sum, stall) => sum + stall.ms, 0);
    const bufferedTotal = secondsPerRendition.reduce((a, b) => a + b, 0);
    // What was played, split by rendition in the proportions they were buffered.
    const share = bufferedTotal > 0 ? played / bufferedTotal : 0;
    const playedPer = secondsPerRendition.map((seconds) => seconds * share);
    const averageBitrate = played > 0 ? playedPer.reduce((sum, seconds, i) => sum + seconds * presentation.renditions[i]!.bandwidth, 0) / played : 0;
    return {
      startupMs: buffer.startupMs,
      stalls: buffer.stalls,
      switches,
      playedSeconds: played,
      secondsPerRendition: playedPer,
      averageBitrate,
      rebufferRatio: played * 1000 + stalledMs > 0 ? stalledMs / (played * 1000 + stalledMs) : 0,
      bytes: this.#bytes,
      segments,
      errors: this.#errors,
      retries: this.#retries,
      completed,
    };
  }

  /** Downloads `url` with retries; samples the estimator; false when it failed for good. */
  async #fetchCounted(url: string, estimator: BandwidthEstimator | null): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      const started = performance.now();
      try {
        const bytes = await this.#download(url);
        const ms = performance.now() - started;
        this.#bytes += bytes;
        this.#options.onBytes?.(bytes);
        if (estimator !== null) {
          estimator.sample(ms, bytes);
          this.#options.onThroughput?.((8 * bytes) / (Math.max(ms, 1) / 1000));
        }
        return true;
      } catch {
        this.#errors++;
        if (attempt >= RETRIES || performance.now() + RETRY_DELAY_MS >= this.#options.deadline) return false;
        this.#retries++;
        await sleep(RETRY_DELAY_MS);
      }
    }
  }

  async #download(url: string): Promise<number> {
    const response = await request(url, { dispatcher: this.#agent, headers: this.#headers, headersTimeout: 30_000, bodyTimeout: 30_000 });
    let bytes = 0;
    for await (const chunk of response.body) bytes += (chunk as Buffer).length;
    if (response.statusCode >= 400) throw new HttpError(`${url}: HTTP ${response.statusCode}`);
    return bytes;
  }

  async #text(url: string): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await request(url, { dispatcher: this.#agent, headers: this.#headers, headersTimeout: 30_000, bodyTimeout: 30_000 });
        const text = await response.body.text();
        this.#bytes += Buffer.byteLength(text);
        if (response.statusCode >= 400) throw new HttpError(`${url}: HTTP ${response.statusCode}`);
        return text;
      } catch (error) {
        this.#errors++;
        if (attempt >= RETRIES) throw error;
        this.#retries++;
        await sleep(RETRY_DELAY_MS);
      }
    }
  }
}

/**
 * Which segment comes next, by position in the stream, whatever the rendition: a VOD from its
 * start; a live stream from three segments behind its edge, reloading the playlist when the
 * player has caught up.
 */
class SegmentCursor {
  index = 0;
  readonly #presentation: Presentation;
  /** Live: the next media sequence number, and the renditions as last reloaded. */
  #sequence: number | null = null;
  readonly #live: Rendition[];
  #reloadedAt = 0;

  constructor(presentation: Presentation) {
    this.#presentation = presentation;
    this.#live = [...presentation.renditions];
  }

  /** The next segment of `rendition`, 'wait' (live: not out yet), or null (VOD: the end). */
  async next(rendition: number, fetchText: (url: string) => Promise<string>, deadline: number): Promise<Segment | 'wait' | null> {
    if (!this.#presentation.live) {
      const segment = this.#presentation.renditions[rendition]!.segments[this.index];
      if (segment === undefined) return null;
      this.index++;
      return segment;
    }
    let current = this.#live[rendition]!;
    this.#sequence ??= current.segments.at(-Math.min(3, current.segments.length))?.sequence ?? 0;
    let segment = current.segments.find((s) => s.sequence === this.#sequence);
    if (segment === undefined) {
      const wait = this.#reloadedAt + this.#presentation.targetDuration * 1000 - performance.now();
      if (wait > 0) {
        await sleep(Math.min(wait, deadline - performance.now()));
        return 'wait';
      }
      this.#reloadedAt = performance.now();
      if (current.playlistUrl === null) return null;
      const media = parseM3u8(await fetchText(current.playlistUrl));
      current = mediaRendition(media, current.playlistUrl, current.bandwidth, current.label);
      this.#live[rendition] = current;
      segment = current.segments.find((s) => s.sequence === this.#sequence);
      // Fell out of the window (the player was too slow): jump to the oldest segment there.
      if (segment === undefined && current.segments.length > 0 && current.segments[0]!.sequence > this.#sequence) {
        segment = current.segments[0]!;
      }
      if (segment === undefined) return current.playlistUrl === null ? null : 'wait';
    }
    this.#sequence = segment.sequence + 1;
    this.index++;
    return segment;
  }
}
