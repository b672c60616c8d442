/**
 * Content-Type by file name: mime-types, corrected where streaming players need another type
 * or where it has none. Names without a known extension get the site's default type.
 */
import { extname } from 'node:path';
import mime from 'mime-types';

/** Types players expect, overriding or completing mime-types. Keys are lower-case extensions. */
const MEDIA_TYPES: ReadonlyMap<string, string> = new Map([
  ['m3u8', 'application/vnd.apple.mpegurl'],
  ['ts', 'video/mp2t'],
  ['m4s', 'video/iso.segment'],
  ['mpd', 'application/dash+xml'],
  ['f4m', 'application/f4m'],
  ['f4f', 'video/f4f'],
  ['f4a', 'audio/f4a'],
  ['abst', 'application/octet-stream'],
  ['vtt', 'text/vtt; charset=utf-8'],
  ['cmfv', 'video/mp4'],
  ['cmfa', 'audio/mp4'],
  ['cmft', 'application/mp4'],
  // HLS AES-128 keys: mime-db says Keynote, players want raw bytes.
  ['key', 'application/octet-stream'],
]);

const byExtension = new Map<string, string | null>();

/** The Content-Type for a file name; `defaultType` when the extension is unknown or absent. */
export function contentTypeFor(fileName: string, defaultType: string): string {
  const ext = extname(fileName).slice(1).toLowerCase();
  if (ext === '') return defaultType;
  let type = byExtension.get(ext);
  if (type === undefined) {
    type = MEDIA_TYPES.get(ext) ?? (mime.contentType(ext) || null);
    byExtension.set(ext, type);
  }
  return type ?? defaultType;
}

/** Manifests and playlists: documents a live stream rewrites, never to be cached stale. */
export function isManifest(fileName: string): boolean {
  const ext = extname(fileName).toLowerCase();
  return ext === '.m3u8' || ext === '.mpd' || ext === '.f4m' || ext === '.m3u';
}
