/**
 * `--p1203 FILE`: one ITU-T P.1203 mode 0 input per session, as JSON Lines (each line an input
 * object of the itu-p1203 reference software: I11 audio segments, I13 video segments, I23
 * stalling, IGen), for users to score with their own copy (its licence forbids bundling it).
 * Pure: built from the players' records kept with their played segments.
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
const AUDIO_CODECS: ReadonlyArray<[RegExp, string]> = [
  [/^mp4a\.40\.(5|29)$/, 'heaac'],
  [/^mp4a\b/, 'aaclc'],
  [/^ac-3$/, 'ac3'],
  [/^mp4a\.6[9b]$/i, 'mp2'],
];

/** The P.1203 name of the first video (or audio) codec in an RFC 6381 list; the list itself when unknown. */
export function p1203Codec(codecs: string | null, kind: 'video' | 'audio'): string | undefined {
  if (codecs === null) return undefined;
  const table = kind === 'video' ? VIDEO_CODECS : AUDIO_CODECS;
  const list = codecs.split(',').map((codec) => codec.trim());
  for (const codec of list) {
    for (const [pattern, name] of table) if (pattern.test(codec)) return name;
  }
  return kind === 'video' ? codecs : undefined;
}

/** kbit/s from what was received: a muxed TS segment counts its audio and TS overhead too. */
const kbps = (segment: PlayedSegment): number => (segment.duration > 0 ? Math.round((segment.bytes * 8) / segment.duration / 10) / 100 : 0);
const seconds = (value: number): number => Math.round(value * 1000) / 1000;

export function p1203Input(player: PlayerRecord, session: SessionRecord, streamId: number): object | null {
  const media = session.playedMedia;
  if (media === undefined || session.startupMs === null) return null;
  const video = (rendition: RenditionInfo, segment: PlayedSegment): object => ({
    bitrate: kbps(segment),
    codec: p1203Codec(rendition.codecs, 'video'),
    duration: seconds(segment.duration),
    ...(rendition.frameRate === null ? {} : { fps: rendition.frameRate }),
    ...(rendition.resolution === null ? {} : { resolution: `${rendition.resolution.width}x${rendition.resolution.height}` }),
    start: seconds(segment.start),
  });
  const audioCodec = player.audio === null ? undefined : p1203Codec(player.audio.codecs, 'audio');
  return {
    I11: {
      segments: media.filter((segment) => segment.rendition < 0).map((segment) => ({ bitrate: kbps(segment), codec: audioCodec, duration: seconds(segment.duration), start: seconds(segment.start) })),
      streamId,
    },
    I13: { segments: media.filter((segment) => segment.rendition >= 0).map((segment) => video(player.renditions[segment.rendition]!, segment)), streamId },
    // The initial loading at media time 0, then each stall where the picture froze.
    I23: { stalling: [[0, seconds(session.startupMs / 1000)], ...session.stalls.map((stall) => [seconds(stall.position), seconds(stall.ms / 1000)])], streamId },
    IGen: VIEWING,
  };
}

/** One line per session that started playing: the P.1203 input, and `mediacast` saying whose. */
export function p1203Lines(players: readonly PlayerRecord[]): string {
  const lines: string[] = [];
  for (const player of players) {
    player.sessions.forEach((session, index) => {
      const input = p1203Input(player, session, lines.length);
      if (input !== null) lines.push(JSON.stringify({ ...input, mediacast: { player: player.id, source: player.source, session: index } }));
    });
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
