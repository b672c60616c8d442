/**
 * A DASH MPD (mpd-parser: SegmentTemplate, SegmentTimeline, SegmentList and SegmentBase) into a
 * Presentation: the video representations as renditions, the first audio representation as the
 * track fetched beside them.
 */
import { parse, type MpdPlaylist } from 'mpd-parser';
import { byteRange } from './hls-manifest.js';
import { ParseCache } from './parse-cache.js';
import type { Presentation, Rendition } from './presentation.js';

const presentationCache = new ParseCache<Presentation>();

/** Parsed once per text and URL in this thread (the result is shared: never mutate it). */
export function loadDash(url: string, text: string): Presentation {
  return presentationCache.get(text, url, () => parseDash(url, text));
}

function parseDash(url: string, text: string): Presentation {
  // mpd-parser reads a dynamic MPD as a static one (and says endList); a live DASH stream would be
  // played as a VOD of its current window: refused until it is followed properly.
  if (/<MPD\b[^>]*\btype\s*=\s*["']dynamic["']/.test(text)) throw new Error(`${url}: live (dynamic) DASH is not supported yet`);
  const manifest = parse(text, { manifestUri: url });
  const playlists = manifest.playlists ?? [];
  if (playlists.length === 0) throw new Error(`${url}: no video representations in the MPD`);
  const audioGroups = Object.values(manifest.mediaGroups.AUDIO ?? {});
  const audioPlaylist = audioGroups.flatMap((group) => Object.values(group)).flatMap((entry) => entry.playlists)[0];
  if ([...playlists, ...(audioPlaylist ? [audioPlaylist] : [])].some((playlist) => playlist.sidx !== undefined && playlist.segments.length === 0)) {
    throw new Error(`${url}: SegmentBase (a sidx index) is not supported; SegmentTemplate, SegmentTimeline and SegmentList are`);
  }
  const rendition = (playlist: MpdPlaylist, fallback: string): Rendition => {
    const { BANDWIDTH, RESOLUTION, NAME, CODECS, 'FRAME-RATE': frameRate } = playlist.attributes;
    const map = playlist.segments.find((segment) => segment.map)?.map;
    return {
      bandwidth: BANDWIDTH ?? 0,
      label: RESOLUTION?.height ? `${RESOLUTION.height}p` : (NAME ?? fallback),
      codecs: CODECS ?? null,
      // mpd-parser gives audio an empty resolution.
      resolution: RESOLUTION?.width && RESOLUTION.height ? RESOLUTION : null,
      frameRate: frameRate ?? null,
      init: map ? { url: map.resolvedUri, range: byteRange(map.byterange) } : null,
      segments: playlist.segments.map((segment, i) => ({ url: segment.resolvedUri, range: byteRange(segment.byterange), duration: segment.duration, sequence: segment.number ?? i })),
      playlistUrl: null,
    };
  };
  const renditions = playlists.map((playlist, i) => rendition(playlist, `representation ${i}`)).sort((a, b) => a.bandwidth - b.bandwidth);
  return {
    format: 'dash',
    renditions,
    audio: audioPlaylist ? rendition(audioPlaylist, 'audio') : null,
    live: false,
    targetDuration: Math.max(1, manifest.targetDuration ?? 2),
  };
}
