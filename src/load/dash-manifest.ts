/**
 * A DASH MPD (mpd-parser: SegmentTemplate, SegmentTimeline, SegmentList and SegmentBase) into a
 * Presentation: the video representations as renditions, the first audio representation as the
 * track fetched beside them.
 */
import { parse, type MpdPlaylist } from 'mpd-parser';
import type { Presentation, Rendition } from './presentation.js';

export function loadDash(url: string, text: string): Presentation {
  const manifest = parse(text, { manifestUri: url });
  const rendition = (playlist: MpdPlaylist, fallback: string): Rendition => {
    const resolution = playlist.attributes.RESOLUTION;
    const map = playlist.segments.find((segment) => segment.map)?.map;
    return {
      bandwidth: playlist.attributes.BANDWIDTH ?? 0,
      label: resolution ? `${resolution.height}p` : (playlist.attributes.NAME ?? fallback),
      init: map ? map.resolvedUri : null,
      segments: playlist.segments.map((segment, i) => ({ url: segment.resolvedUri, duration: segment.duration, sequence: segment.number ?? i })),
      playlistUrl: null,
    };
  };
  const renditions = manifest.playlists.map((playlist, i) => rendition(playlist, `representation ${i}`)).sort((a, b) => a.bandwidth - b.bandwidth);
  const audioGroups = Object.values(manifest.mediaGroups.AUDIO ?? {});
  const audioPlaylist = audioGroups.flatMap((group) => Object.values(group)).flatMap((entry) => entry.playlists)[0];
  return {
    format: 'dash',
    renditions,
    audio: audioPlaylist ? rendition(audioPlaylist, 'audio') : null,
    live: manifest.minimumUpdatePeriod !== undefined && manifest.endList !== true,
    targetDuration: manifest.targetDuration ?? 2,
  };
}
