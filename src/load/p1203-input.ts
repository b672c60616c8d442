/**
 * `--p1203 FILE`: one ITU-T P.1203 mode 0 input per session, as JSON Lines (each line an input
 * object of the itu-p1203 reference software: I11 audio segments, I13 video segments, I23
 * stalling, IGen), for users to score with their own copy (its licence forbids bundling it).
 * Pure: built from a player's records kept with their played segments, in the simulator thread.
 */
import type { RenditionInfo } from './presentation.js';
import type { PlayerRecord, PlayedSegment, SessionRecord } from './player.js';

/** The reference software's defaults for the viewing conditions. */
const VIEWING = { device: 'pc', displaySize: '1920x1080', viewingDistance: '150cm' } as const;

const VIDEO_CODECS: ReadonlyArray<[RegExp, string]> = [
  [/^(avc1|avc3)\b/, 'h264'],
  [/^(hvc1|hev1)\b/, 'h265'],
  [/^(vp09|vp9)\b/, 'vp9'],
];
// MPEG-1/2 audio before the catch-all AAC rule.
const AUDIO_CODECS: ReadonlyArray<[RegExp, string]> = [
  [/^mp4a\.6[9b]$/i, 'mp2'],
  [/^mp4a\.40\.(5|29)$/, 'heaac'],
  [/^mp4a\b/, 'aaclc'],
  [/^ac-3$/, 'ac3'],
];
/** The reference software scores these without its codec extension. */
const STANDARD_CODECS = new Set(['h264', 'aaclc', 'heaac', 'ac3', 'mp2']);
/** Sessions with less video played are not scored (the model has nothing to measure). */
const MIN_PLAYED_SECONDS = 1;

/**
 * The P.1203 name of the first video (or audio) codec in an RFC 6381 list; the list itself when
 * none is known (the reference software then refuses it by name); null when nothing is declared.
 */
export function p1203Codec(codecs: string | null, kind: 'video' | 'audio'): string | null {
  if (codecs === null || codecs.trim() === '') return null;
  const table = kind === 'video' ? VIDEO_CODECS : AUDIO_CODECS;
  const list = codecs.split(',').map((codec) => codec.trim());
  for (const codec of list) {
    for (const [pattern, name] of table) if (pattern.test(codec)) return name;
  }
  return codecs;
}

/** A session's P.1203 input, and whether the reference software can score it as it is. */
export interface P1203Session {
  readonly input: object;
  /** False when a codec, resolution or frame rate is missing or outside the standard's codecs. */
  readonly scorable: boolean;
}

/** kbit/s from what was received: a muxed TS segment counts its audio and TS overhead too. */
const kbps = (segment: PlayedSegment): number => (segment.duration > 0 ? Math.round((segment.bytes * 8) / segment.duration / 10) / 100 : 0);
const seconds = (value: number): number => Math.round(value * 1000) / 1000;

/** Null for a session that never started or played under a second of video. */
export function p1203Input(player: PlayerRecord, session: SessionRecord, streamId: number): P1203Session | null {
  const media = session.playedMedia;
  if (media === undefined || session.startupMs === null) return null;
  const videoSegments = media.filter((segment) => segment.rendition >= 0);
  if (videoSegments.reduce((sum, segment) => sum + segment.duration, 0) < MIN_PLAYED_SECONDS) return null;
  let scorable = true;
  const codec = (codecs: string | null, kind: 'video' | 'audio'): string | null => {
    const name = p1203Codec(codecs, kind);
    if (name === null || !STANDARD_CODECS.has(name)) scorable = false;
    return name;
  };
  const video = (rendition: RenditionInfo, segment: PlayedSegment): object => {
    if (rendition.frameRate === null || rendition.resolution === null) scorable = false;
    return {
      bitrate: kbps(segment),
      codec: codec(rendition.codecs, 'video'),
      duration: seconds(segment.duration),
      ...(rendition.frameRate === null ? {} : { fps: rendition.frameRate }),
      ...(rendition.resolution === null ? {} : { resolution: `${rendition.resolution.width}x${rendition.resolution.height}` }),
      start: seconds(segment.start),
    };
  };
  const audioSegments = media.filter((segment) => segment.rendition < 0);
  const audioCodec = player.audio === null || audioSegments.length === 0 ? null : codec(player.audio.codecs, 'audio');
  const input = {
    I11: {
      segments: audioSegments.map((segment) => ({ bitrate: kbps(segment), codec: audioCodec, duration: seconds(segment.duration), start: seconds(segment.start) })),
      streamId,
    },
    I13: { segments: videoSegments.map((segment) => video(player.renditions[segment.rendition]!, segment)), streamId },
    // The initial loading at media time 0, then each stall where the picture froze.
    I23: { stalling: [[0, seconds(session.startupMs / 1000)], ...session.stalls.map((stall) => [seconds(stall.position), seconds(stall.ms / 1000)])], streamId },
    IGen: VIEWING,
  };
  return { input, scorable };
}

/** One line per session scored (see p1203Input), `mediacast` saying whose; and how many the reference software cannot score as they are. */
export function p1203Lines(player: PlayerRecord): { lines: string[]; unscorable: number } {
  const lines: string[] = [];
  let unscorable = 0;
  player.sessions.forEach((session, index) => {
    const scored = p1203Input(player, session, player.id * 1000 + index);
    if (scored === null) return;
    if (!scored.scorable) unscorable++;
    lines.push(JSON.stringify({ ...scored.input, mediacast: { player: player.id, source: player.source, session: index } }));
  });
  return { lines, unscorable };
}
