/**
 * What a served playlist says about renditions, for the control plane's per-client view (which
 * rendition a client is fetching): an HLS master's variants (BANDWIDTH, resolution) by their
 * playlist paths, an HLS media playlist's segment paths, a DASH MPD's segment paths per
 * representation. Paths are URL paths on this server, resolved against the playlist's. Pure.
 */
import { loadDash } from '../load/dash-manifest.js';
import { parseM3u8 } from '../load/hls-manifest.js';

export interface RenditionTag {
  /** Declared bits per second (0 when the playlist says none). */
  readonly bandwidth: number;
  /** `540p`, or the playlist's name. */
  readonly label: string;
}

export type PlaylistFacts =
  | { readonly kind: 'master'; readonly variants: ReadonlyArray<{ readonly playlist: string; readonly rendition: RenditionTag }> }
  | { readonly kind: 'media'; readonly playlist: string; readonly segments: readonly string[] }
  | { readonly kind: 'mpd'; readonly renditions: ReadonlyArray<{ readonly rendition: RenditionTag; readonly paths: readonly string[] }> };

/** Paths kept per playlist (a day of 2-second segments is 43,200). */
export const MAX_PLAYLIST_PATHS = 50_000;

const BASE = 'http://server.invalid';

/** The facts of playlist `text` served at URL path `path`, or null when it is neither HLS nor DASH (or unreadable). */
export function playlistFacts(text: string, path: string): PlaylistFacts | null {
  try {
    const here = new URL(collapseSlashes(path), BASE);
    // Only what is on this server: an absolute URL elsewhere names nothing clients fetch here.
    const local = (uri: string): string | null => {
      const url = new URL(uri, here);
      return url.origin === BASE ? collapseSlashes(url.pathname) : null;
    };
    const trimmed = text.trimStart();
    if (trimmed.startsWith('#EXTM3U')) {
      const manifest = parseM3u8(text);
      if (manifest.playlists && manifest.playlists.length > 0) {
        const variants = manifest.playlists.flatMap((playlist) => {
          const at = local(playlist.uri);
          const { BANDWIDTH, RESOLUTION } = playlist.attributes;
          return at === null ? [] : [{ playlist: at, rendition: { bandwidth: BANDWIDTH ?? 0, label: RESOLUTION?.height ? `${RESOLUTION.height}p` : playlist.uri } }];
        });
        return { kind: 'master', variants };
      }
      const segments = (manifest.segments ?? []).flatMap((segment) => [segment.uri, segment.map?.uri]).filter((uri): uri is string => typeof uri === 'string');
      return { kind: 'media', playlist: here.pathname, segments: unique(segments.map(local)) };
    }
    if (/<MPD\b/.test(trimmed.slice(0, 4096))) {
      const presentation = loadDash(here.href, text);
      const renditions = [...presentation.renditions, ...(presentation.audio ? [presentation.audio] : [])].map((rendition) => ({
        rendition: { bandwidth: rendition.bandwidth, label: rendition.label },
        paths: unique([rendition.init?.url, ...rendition.segments.map((segment) => segment.url)].map((url) => (url === undefined ? null : local(url)))),
      }));
      return { kind: 'mpd', renditions };
    }
  } catch {
    // A playlist the parsers cannot read tells nothing.
  }
  return null;
}

/** A URL path with each run of slashes as one (the server skips empty segments). */
export function collapseSlashes(path: string): string {
  return path.replace(/\/{2,}/g, '/');
}

function unique(paths: ReadonlyArray<string | null>): string[] {
  const kept = new Set<string>();
  for (const path of paths) {
    if (path !== null) kept.add(path);
    if (kept.size >= MAX_PLAYLIST_PATHS) break;
  }
  return [...kept];
}
