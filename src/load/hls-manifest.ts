/**
 * HLS master and media playlists (m3u8-parser) into a Presentation. A media playlist given
 * directly is a presentation of one rendition.
 */
import { Parser, type M3u8Manifest } from 'm3u8-parser';
import { ParseCache } from './parse-cache.js';
import type { Presentation, Rendition, RenditionInfo } from './presentation.js';

/** Fetches a text resource (the simulator's HTTP client). */
export type FetchText = (url: string) => Promise<string>;

const manifestCache = new ParseCache<M3u8Manifest>();
const renditionCache = new ParseCache<Rendition>();

/** Parsed once per text in this thread (the result is shared: never mutate it). */
export function parseM3u8(text: string): M3u8Manifest {
  return manifestCache.get(text, '', () => {
    const parser = new Parser();
    parser.push(text);
    parser.end();
    return parser.manifest;
  });
}

/** A media playlist's text as a rendition (shared, as parseM3u8's result). */
export function mediaRenditionOf(text: string, url: string, info: RenditionInfo): Rendition {
  return renditionCache.get(text, `${url}\n${JSON.stringify(info)}`, () => mediaRendition(parseM3u8(text), url, info));
}

export async function loadHls(url: string, text: string, fetchText: FetchText): Promise<Presentation> {
  if (!text.trimStart().startsWith('#EXTM3U')) throw new Error(`${url}: neither an HLS playlist (#EXTM3U) nor a DASH MPD`);
  const top = parseM3u8(text);
  if (!top.playlists || top.playlists.length === 0) {
    const rendition = mediaRenditionOf(text, url, { bandwidth: 0, label: 'single rendition', codecs: null, resolution: null, frameRate: null });
    return { format: 'hls', renditions: [rendition], audio: null, live: rendition.playlistUrl !== null, targetDuration: Math.max(1, top.targetDuration ?? 6) };
  }
  const renditions = await Promise.all(
    top.playlists.map(async (playlist) => {
      const mediaUrl = new URL(playlist.uri, url).href;
      const mediaText = await fetchText(mediaUrl);
      const media = parseM3u8(mediaText);
      const { BANDWIDTH, RESOLUTION, CODECS, 'FRAME-RATE': frameRate } = playlist.attributes;
      // A malformed RESOLUTION or FRAME-RATE is taken as absent, not carried into the reports.
      const resolution = RESOLUTION && RESOLUTION.width > 0 && RESOLUTION.height > 0 ? RESOLUTION : null;
      const info: RenditionInfo = {
        bandwidth: BANDWIDTH ?? 0,
        label: resolution ? `${resolution.height}p` : playlist.uri,
        codecs: CODECS ?? null,
        resolution,
        frameRate: frameRate !== undefined && frameRate > 0 ? frameRate : null,
      };
      return { rendition: mediaRenditionOf(mediaText, mediaUrl, info), media };
    }),
  );
  renditions.sort((a, b) => a.rendition.bandwidth - b.rendition.bandwidth);
  const live = renditions.some(({ rendition }) => rendition.playlistUrl !== null);
  return {
    format: 'hls',
    renditions: renditions.map(({ rendition }) => rendition),
    audio: null,
    live,
    targetDuration: Math.max(1, ...renditions.map(({ media }) => media.targetDuration ?? 6)),
  };
}

/** One media playlist as a rendition; `url` resolves its segment URIs. */
function mediaRendition(media: M3u8Manifest, url: string, info: RenditionInfo): Rendition {
  const first = media.mediaSequence ?? 0;
  const map = media.segments.find((segment) => segment.map)?.map;
  return {
    ...info,
    init: map ? { url: new URL(map.uri, url).href, range: byteRange(map.byterange) } : null,
    segments: media.segments.map((segment, i) => ({
      url: new URL(segment.uri, url).href,
      range: byteRange(segment.byterange),
      duration: segment.duration,
      sequence: first + i,
    })),
    playlistUrl: media.endList ? null : url,
  };
}

/** A parser's `{ length, offset }` (m3u8-parser and mpd-parser alike) as first and last byte. */
export function byteRange(range: { length: number; offset?: number } | undefined): readonly [number, number] | null {
  if (range === undefined) return null;
  const start = range.offset ?? 0;
  return [start, start + range.length - 1];
}
