/**
 * One simulated player: fetches the manifest, then segments in real time under a buffer model,
 * choosing renditions by ABR, and records what a viewer would have seen. A VOD played to its end
 * starts over as a new session until the deadline (or the loop count). Live playlists are
 * reloaded every target duration and their window followed from the live edge.
 */
import { randomUUID } from 'node:crypto';
import { appendCmcdQuery, toCmcdHeaders, type Cmcd, type CmcdV1Data } from '@svta/cml-cmcd';
import { Agent, request, type Dispatcher } from 'undici';
import { BandwidthEstimator, chooseRendition, type AbrOptions } from './abr.js';
import { loadDash } from './dash-manifest.js';
import { loadHls, mediaRenditionOf } from './hls-manifest.js';
import { PlaybackBuffer, type BufferOptions, type Stall } from './playback-buffer.js';
import type { Presentation, Rendition, RenditionInfo, Resource, Segment } from './presentation.js';

export interface PlayerOptions {
  readonly url: string;
  readonly abr: AbrOptions;
  readonly buffer: BufferOptions;
  /** Local address to connect from (per-IP shaping per viewer), or null. */
  readonly source: string | null;
  /** Header and value identifying this viewer (`--client-id-header`), or null. */
  readonly clientId: readonly [string, string] | null;
  /** CTA-5004 CMCD keys (version 1) on every request, as a query parameter or headers; null: none. */
  readonly cmcd: 'query' | 'headers' | null;
  /** When the run started and when the player stops (performance.now() clock). */
  readonly runStart: number;
  readonly deadline: number;
  /** Sessions at most (0: until the deadline). */
  readonly loops: number;
  /** Called with bytes as they arrive (live progress, the timeline). */
  readonly onBytes?: (bytes: number) => void;
  /** Called with each segment's download throughput in bits/s (kept in a histogram, not a list). */
  readonly onThroughput?: (bitsPerSecond: number) => void;
  /** Called when a stall ends, with when it began and ended (ms after the run start). */
  readonly onStall?: (fromMs: number, toMs: number) => void;
  /** Called when the rendition being fetched changes (null: none, before and after a session). */
  readonly onRendition?: (from: number | null, to: number | null) => void;
  /** Keep each session's played segments (`playedMedia`, for the P.1203 input). */
  readonly keepPlayedMedia?: boolean;
}

export interface Switch {
  /** ms after the session start. */
  readonly at: number;
  readonly from: number;
  readonly to: number;
}

/** A segment as played: its rendition (-1: the DASH audio track), media start and seconds, bytes. */
export interface PlayedSegment {
  readonly rendition: number;
  readonly start: number;
  readonly duration: number;
  readonly bytes: number;
}

export interface SessionRecord {
  /** ms after the run started: when the session began and ended. */
  readonly startedAt: number;
  readonly endedAt: number;
  /** The rendition fetched first (switches go from there). */
  readonly initialRendition: number;
  /** ms from the first request to the first frame; null when playback never started. */
  readonly startupMs: number | null;
  /** The first MAX_LISTED stalls and switches; the counts are complete. */
  readonly stalls: readonly Stall[];
  readonly stallCount: number;
  readonly stallMs: number;
  readonly switches: readonly Switch[];
  readonly switchCount: number;
  /** Media seconds played, and per rendition (by index), in the order they played. */
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
  /** The session reached the end of the stream (rather than the deadline). */
  readonly completed: boolean;
  /** With keepPlayedMedia: what was played, in order (a segment cut by the end counts as played so far). */
  readonly playedMedia?: readonly PlayedSegment[];
}

/** Sessions past the first MAX_SESSIONS of a player, added up (the report stays bounded). */
export interface FoldedSessions {
  readonly sessions: number;
  readonly neverStarted: number;
  readonly stalledSessions: number;
  readonly stallCount: number;
  readonly stallMs: number;
  readonly switchCount: number;
  readonly playedSeconds: number;
  readonly secondsPerRendition: readonly number[];
  readonly bytes: number;
  readonly segments: number;
  readonly errors: number;
  readonly retries: number;
}

export interface PlayerRecord {
  readonly id: number;
  readonly source: string | null;
  readonly renditions: readonly RenditionInfo[];
  /** The DASH audio track fetched beside the video, or null. */
  readonly audio: RenditionInfo | null;
  /** The first MAX_SESSIONS sessions in full. */
  readonly sessions: readonly SessionRecord[];
  readonly folded: FoldedSessions | null;
  /** A failure that stopped the player (manifest unreachable or unplayable), or null. */
  readonly failure: string | null;
}

export const MAX_SESSIONS = 100;
const MAX_LISTED = 200;
const RETRIES = 2;
const RETRY_DELAY_MS = 500;
/** Longest sleep between checks of the buffer and the deadline. */
const MAX_WAIT_MS = 500;
/** A live player starts this many segments behind the edge (and goes back there when it fell out). */
const LIVE_EDGE_SEGMENTS = 3;

class HttpError extends Error {}
/** The run's end cut a request: not an error of the server's. */
class DeadlineReached extends Error {}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

export async function runPlayer(id: number, options: PlayerOptions): Promise<PlayerRecord> {
  const agent = new Agent({ keepAliveTimeout: 10_000, ...(options.source ? { localAddress: options.source } : {}) });
  const headers: Record<string, string> = options.clientId ? { [options.clientId[0]]: options.clientId[1] } : {};
  const deadline = AbortSignal.timeout(Math.max(1, Math.ceil(options.deadline - performance.now())));
  const sessions: SessionRecord[] = [];
  let folded: Mutable<FoldedSessions> | null = null;
  let count = 0;
  let renditions: PlayerRecord['renditions'] = [];
  let audio: PlayerRecord['audio'] = null;
  const record = (session: SessionRecord): void => {
    count++;
    if (sessions.length < MAX_SESSIONS) return void sessions.push(session);
    folded ??= { sessions: 0, neverStarted: 0, stalledSessions: 0, stallCount: 0, stallMs: 0, switchCount: 0, playedSeconds: 0, secondsPerRendition: [], bytes: 0, segments: 0, errors: 0, retries: 0 };
    folded.sessions++;
    // As in the summary: a later session the run's end cut before its first frame is not counted.
    if (session.startupMs === null && (session.completed || session.segments > 0)) folded.neverStarted++;
    if (session.stallCount > 0) folded.stalledSessions++;
    folded.stallCount += session.stallCount;
    folded.stallMs += session.stallMs;
    folded.switchCount += session.switchCount;
    folded.playedSeconds += session.playedSeconds;
    folded.secondsPerRendition = session.secondsPerRendition.map((seconds, i) => seconds + (folded!.secondsPerRendition[i] ?? 0));
    folded.bytes += session.bytes;
    folded.segments += session.segments;
    folded.errors += session.errors;
    folded.retries += session.retries;
  };
  try {
    while (performance.now() < options.deadline && (options.loops === 0 || count < options.loops)) {
      const session = new Session(agent, headers, options, deadline);
      const result = await session.run();
      renditions = session.renditions;
      audio = session.audio;
      record(result);
      if (!result.completed) break;
    }
    return { id, source: options.source, renditions, audio, sessions, folded, failure: null };
  } catch (error) {
    if (error instanceof DeadlineReached) return { id, source: options.source, renditions, audio, sessions, folded, failure: null };
    return { id, source: options.source, renditions, audio, sessions, folded, failure: error instanceof Error ? error.message : String(error) };
  } finally {
    // Past the deadline a request may still be connecting (undici cannot abort that): cut it.
    if (performance.now() >= options.deadline) await agent.destroy();
    else await agent.close();
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

class Session {
  renditions: PlayerRecord['renditions'] = [];
  audio: PlayerRecord['audio'] = null;
  readonly #agent: Dispatcher;
  readonly #headers: Record<string, string>;
  readonly #options: PlayerOptions;
  readonly #startedAt = performance.now();
  /** CMCD session id. */
  readonly #sid = randomUUID();
  /** Ends every request at the run's deadline (one timer per player, shared by its sessions). */
  readonly #deadline: AbortSignal;
  #bytes = 0;
  #errors = 0;
  #retries = 0;
  /** What the next request says about the player (CMCD), updated as the session goes. */
  #cmcd: CmcdV1Data = {};

  constructor(agent: Dispatcher, headers: Record<string, string>, options: PlayerOptions, deadline: AbortSignal) {
    this.#agent = agent;
    this.#headers = headers;
    this.#options = options;
    this.#deadline = deadline;
  }

  async run(): Promise<SessionRecord> {
    const { url, abr, deadline } = this.#options;
    const manifest = await this.#text(url);
    const presentation: Presentation = /<MPD[\s>]/.test(manifest) ? loadDash(url, manifest) : await loadHls(url, manifest, (u) => this.#text(u));
    if (presentation.renditions.length === 0) throw new Error(`${url}: no renditions in the manifest`);
    this.renditions = presentation.renditions.map(renditionInfo);
    this.audio = presentation.audio === null ? null : renditionInfo(presentation.audio);
    const topKbps = Math.round(presentation.renditions.at(-1)!.bandwidth / 1000);
    const format = presentation.format === 'hls' ? 'h' : 'd';
    const kind = presentation.live ? 'l' : 'v';
    const buffer = new PlaybackBuffer(this.#options.buffer, this.#startedAt);
    const estimator = new BandwidthEstimator(abr);
    const switches: Switch[] = [];
    let switchCount = 0;
    /** What was buffered, in order (played time is taken from the front). */
    const buffered: BufferedSegment[] = [];
    const bufferedAudio: BufferedSegment[] = [];
    const initialRendition = chooseRendition(presentation.renditions, 0, estimator.estimate, 0, abr);
    let current = initialRendition;
    this.#options.onRendition?.(null, current);
    const inits = new Set<string>();
    const cursor = new SegmentCursor(presentation, (u) => this.#text(u), () => this.#errors++);
    let segments = 0;
    let completed = false;
    let reported = 0;
    let videoTime = 0;
    let audioTime = 0;
    let audioIndex = 0;
    const sessionStart = this.#startedAt - this.#options.runStart;
    const reportStalls = (): void => {
      for (; reported < buffer.stalls.length; reported++) {
        const stall = buffer.stalls[reported]!;
        this.#options.onStall?.(sessionStart + stall.at, sessionStart + stall.at + stall.ms);
      }
    };
    // The rung counts must come back down however the session ends.
    try {
      while (performance.now() < deadline) {
        // Fetch while below the buffer target; meanwhile playback goes on.
        const level = buffer.level(performance.now());
        if (level >= this.#options.buffer.target) {
          await sleep(Math.min(MAX_WAIT_MS, (level - this.#options.buffer.target) * 1000 + 10, deadline - performance.now()));
          continue;
        }
        const next = chooseRendition(presentation.renditions, current, estimator.estimate, level, abr);
        if (next !== current) {
          this.#options.onRendition?.(current, next);
          switchCount++;
          if (switches.length < MAX_LISTED) switches.push({ at: performance.now() - this.#startedAt, from: current, to: next });
          current = next;
        }
        const segment = await cursor.next(current, deadline);
        if (segment === 'end') {
          // A stream with nothing in it is not played again and again.
          completed = segments > 0;
          break;
        }
        if (segment === 'wait') continue;
        const rendition = presentation.renditions[current]!;
        const now = performance.now();
        this.#cmcd = {
          sid: this.#sid,
          cid: url,
          sf: format,
          st: kind,
          br: Math.round(rendition.bandwidth / 1000),
          tb: topKbps,
          bl: Math.round(buffer.level(now) * 10) * 100,
          d: Math.round(segment.duration * 1000),
          mtp: Math.round(estimator.estimate / 100_000) * 100,
          ...(buffer.state !== 'playing' ? { su: true } : {}),
          ...(buffer.state === 'stalled' ? { bs: true } : {}),
        };
        await this.#init(rendition, inits);
        const fetched = await this.#fetchCounted(segment, estimator, 'v');
        // DASH audio: the audio segments up to the same media time; not throughput samples (hls.js
        // samples the main fragments only).
        const audio = presentation.audio;
        videoTime += segment.duration;
        if (audio !== null) {
          await this.#init(audio, inits);
          while (audioTime < videoTime && audioIndex < audio.segments.length) {
            const audioSegment = audio.segments[audioIndex++]!;
            const audioBytes = await this.#fetchCounted(audioSegment, null, 'a');
            if (audioBytes !== null) bufferedAudio.push({ rendition: -1, duration: audioSegment.duration, bytes: audioBytes });
            audioTime += audioSegment.duration;
          }
        }
        if (fetched !== null) {
          buffer.add(segment.duration, performance.now());
          reportStalls();
          buffered.push({ rendition: current, duration: segment.duration, bytes: fetched });
          segments++;
        }
      }
      if (completed) {
        // Play out what is buffered (within the deadline).
        buffer.finish(performance.now());
        reportStalls();
        if (buffer.state === 'playing') await sleep(Math.min(buffer.msUntilEmpty(performance.now()), deadline - performance.now()));
        completed = buffer.level(performance.now()) <= 0.001;
      }
    } finally {
      this.#options.onRendition?.(current, null);
    }
    const now = performance.now();
    buffer.close(now);
    reportStalls();
    const played = buffer.played(now);
    const playedVideo = playedPart(buffered, played);
    const secondsPerRendition = presentation.renditions.map(() => 0);
    for (const segment of playedVideo) secondsPerRendition[segment.rendition]! += segment.duration;
    const stallMs = buffer.stalls.reduce((sum, stall) => sum + stall.ms, 0);
    const averageBitrate = played > 0 ? secondsPerRendition.reduce((sum, seconds, i) => sum + seconds * presentation.renditions[i]!.bandwidth, 0) / played : 0;
    return {
      startedAt: this.#startedAt - this.#options.runStart,
      endedAt: now - this.#options.runStart,
      initialRendition,
      startupMs: buffer.startupMs,
      stalls: buffer.stalls.slice(0, MAX_LISTED),
      stallCount: buffer.stalls.length,
      stallMs,
      switches,
      switchCount,
      playedSeconds: played,
      secondsPerRendition,
      averageBitrate,
      rebufferRatio: played * 1000 + stallMs > 0 ? stallMs / (played * 1000 + stallMs) : 0,
      bytes: this.#bytes,
      segments,
      errors: this.#errors,
      retries: this.#retries,
      completed,
      ...(this.#options.keepPlayedMedia ? { playedMedia: [...playedVideo, ...playedPart(bufferedAudio, played)] } : {}),
    };
  }

  async #init(rendition: Rendition, inits: Set<string>): Promise<void> {
    const init = rendition.init;
    if (init === null) return;
    const key = `${init.url} ${init.range?.join('-') ?? ''}`;
    if (inits.has(key)) return;
    inits.add(key);
    await this.#fetchCounted(init, null, 'i');
  }

  /** Downloads `resource` with retries; samples the estimator; its bytes, or null when it failed for good. */
  async #fetchCounted(resource: Resource, estimator: BandwidthEstimator | null, objectType: 'v' | 'a' | 'i'): Promise<number | null> {
    for (let attempt = 0; ; attempt++) {
      const started = performance.now();
      try {
        const bytes = await this.#download(resource, objectType);
        const ms = performance.now() - started;
        if (estimator !== null) {
          estimator.sample(ms, bytes);
          this.#options.onThroughput?.((8 * bytes) / (Math.max(ms, 1) / 1000));
        }
        return bytes;
      } catch (error) {
        if (error instanceof DeadlineReached || this.#deadline.aborted) return null;
        this.#errors++;
        if (attempt >= RETRIES || performance.now() + RETRY_DELAY_MS >= this.#options.deadline) return null;
        this.#retries++;
        await sleep(RETRY_DELAY_MS);
      }
    }
  }

  /**
   * The URL and options of a request: CMCD keys for `objectType` (`m` manifests), the byte range,
   * and a signal that ends it by the deadline (a slow or silent origin cannot stretch the run).
   */
  #request(url: string, range: Resource['range'], objectType: 'v' | 'a' | 'i' | 'm'): [string, Parameters<typeof request>[1]] {
    let headers = range === null ? this.#headers : { ...this.#headers, range: `bytes=${range[0]}-${range[1]}` };
    let target = url;
    const mode = this.#options.cmcd;
    if (mode !== null) {
      const keys: CmcdV1Data = objectType === 'm' ? { sid: this.#sid, cid: this.#options.url, ot: 'm' } : { ...this.#cmcd, ot: objectType };
      if (objectType !== 'v') delete keys.d;
      // Version 1 keys (scalars); the library's Cmcd type is version 2's (lists).
      const cmcd = keys as unknown as Cmcd;
      if (mode === 'query') target = appendCmcdQuery(url, cmcd, { version: 1 });
      else headers = { ...headers, ...toCmcdHeaders(cmcd, { version: 1 }) };
    }
    return [target, { dispatcher: this.#agent, headers, signal: this.#deadline }];
  }

  /**
   * Downloads a segment and counts its bytes without keeping them: undici's dispatch handler
   * straight, no body stream (a stream and its async iteration cost more than the bytes).
   */
  #download(resource: Resource, objectType: 'v' | 'a' | 'i'): Promise<number> {
    const [target, options] = this.#request(resource.url, resource.range, objectType);
    const url = new URL(target);
    const signal = this.#deadline;
    const onBytes = this.#options.onBytes;
    // Every byte received counts (an error's body, a download cut short), as in the live figures.
    const count = (n: number): void => {
      this.#bytes += n;
      onBytes?.(n);
    };
    return new Promise((resolve, reject) => {
      let status = 0;
      let bytes = 0;
      let controller: Dispatcher.DispatchController | null = null;
      let aborted = false;
      // Attached at dispatch (not when connected), removed when done: one signal serves the session.
      const onAbort = (): void => {
        aborted = true;
        controller?.abort(new DeadlineReached('the run ended'));
      };
      const done = (): void => signal.removeEventListener('abort', onAbort);
      if (signal.aborted) return reject(new DeadlineReached('the run ended'));
      signal.addEventListener('abort', onAbort, { once: true });
      this.#agent.dispatch(
        { origin: url.origin, path: `${url.pathname}${url.search}`, method: 'GET', headers: options!.headers as Record<string, string> },
        {
          onRequestStart: (c) => {
            controller = c;
            if (aborted) c.abort(new DeadlineReached('the run ended'));
          },
          onResponseStart: (_controller, statusCode) => {
            status = statusCode;
          },
          onResponseData: (_controller, chunk) => {
            bytes += chunk.length;
            count(chunk.length);
          },
          onResponseEnd: () => {
            done();
            // Redirects are not followed: a 3xx is no segment.
            if (status >= 300) reject(new HttpError(`${resource.url}: HTTP ${status}`));
            else resolve(bytes);
          },
          onResponseError: (_controller, error) => {
            done();
            reject(aborted ? new DeadlineReached('the run ended') : error);
          },
        },
      );
    });
  }

  async #text(url: string): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await request(...this.#request(url, null, 'm'));
        const text = await response.body.text();
        const bytes = Buffer.byteLength(text);
        this.#bytes += bytes;
        this.#options.onBytes?.(bytes);
        if (response.statusCode >= 300) throw new HttpError(`${url}: HTTP ${response.statusCode} (redirects are not followed)`);
        return text;
      } catch (error) {
        if (this.#deadline.aborted) throw new DeadlineReached('the run ended');
        this.#errors++;
        if (attempt >= RETRIES || performance.now() + RETRY_DELAY_MS >= this.#options.deadline) throw error;
        this.#retries++;
        await sleep(RETRY_DELAY_MS);
      }
    }
  }
}

/**
 * Which segment comes next, by position in the stream, whatever the rendition: a VOD from its
 * start; a live stream from a few segments behind its edge, each rendition's playlist reloaded
 * when the player has caught up with it (at most once per target duration).
 */
class SegmentCursor {
  index = 0;
  readonly #presentation: Presentation;
  readonly #fetchText: (url: string) => Promise<string>;
  readonly #onError: () => void;
  /** Live: the next media sequence number, each rendition as last reloaded, and when. */
  #sequence: number | null = null;
  readonly #live: Rendition[];
  readonly #reloadedAt: number[];

  constructor(presentation: Presentation, fetchText: (url: string) => Promise<string>, onError: () => void) {
    this.#presentation = presentation;
    this.#fetchText = fetchText;
    this.#onError = onError;
    this.#live = [...presentation.renditions];
    this.#reloadedAt = presentation.renditions.map(() => performance.now());
  }

  /** The next segment of `rendition`; 'wait' (live: not out yet); 'end' (the stream ended). */
  async next(rendition: number, deadline: number): Promise<Segment | 'wait' | 'end'> {
    if (!this.#presentation.live) {
      const segment = this.#presentation.renditions[rendition]!.segments[this.index];
      if (segment === undefined) return 'end';
      this.index++;
      return segment;
    }
    let current = this.#live[rendition]!;
    this.#sequence ??= liveEdge(current);
    let segment = current.segments.find((s) => s.sequence === this.#sequence);
    if (segment === undefined) {
      if (current.playlistUrl === null) return 'end';
      const wait = this.#reloadedAt[rendition]! + this.#presentation.targetDuration * 1000 - performance.now();
      // Caught up with this rendition's playlist: reload no more than once per target duration.
      const caughtUp = (current.segments.at(-1)?.sequence ?? -1) < this.#sequence;
      if (caughtUp && wait > 0) {
        await sleep(Math.min(wait, deadline - performance.now()));
        return 'wait';
      }
      this.#reloadedAt[rendition] = performance.now();
      try {
        current = mediaRenditionOf(await this.#fetchText(current.playlistUrl), current.playlistUrl, renditionInfo(current));
      } catch {
        // One failed reload is an error (unless the run ended), not the end of the session: try
        // again a second later.
        if (performance.now() < deadline) {
          this.#onError();
          await sleep(Math.min(1000, deadline - performance.now()));
        }
        return 'wait';
      }
      this.#live[rendition] = current;
      segment = current.segments.find((s) => s.sequence === this.#sequence);
      // Fell out of the window (the player was too slow): back to near the live edge.
      if (segment === undefined && current.segments.length > 0 && current.segments[0]!.sequence > this.#sequence) {
        this.#sequence = liveEdge(current);
        segment = current.segments.find((s) => s.sequence === this.#sequence);
      }
      if (segment === undefined) return current.playlistUrl === null ? 'end' : 'wait';
    }
    this.#sequence = segment.sequence + 1;
    this.index++;
    return segment;
  }
}

const renditionInfo = ({ bandwidth, label, codecs, resolution, frameRate }: RenditionInfo): RenditionInfo => ({ bandwidth, label, codecs, resolution, frameRate });

type BufferedSegment = Omit<PlayedSegment, 'start'>;

/**
 * The front of `segments` that `seconds` of playback covers, placed end to end (a segment that
 * failed for good left no gap in the buffer, so none in the playback); the last one is cut to
 * what played.
 */
function playedPart(segments: readonly BufferedSegment[], seconds: number): PlayedSegment[] {
  const played: PlayedSegment[] = [];
  let start = 0;
  for (const segment of segments) {
    const left = seconds - start;
    if (left <= 1e-9) break;
    const duration = Math.min(segment.duration, left);
    played.push({ ...segment, start, duration, bytes: duration === segment.duration ? segment.bytes : Math.round((segment.bytes * duration) / segment.duration) });
    start += segment.duration;
  }
  return played;
}

function liveEdge(rendition: Rendition): number {
  return rendition.segments.at(-Math.min(LIVE_EDGE_SEGMENTS, rendition.segments.length))?.sequence ?? 0;
}
