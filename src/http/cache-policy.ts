/**
 * Cache-Control by kind of resource. Playlists and manifests change under a live stream, so
 * caches must revalidate them; segments and other files may be reused for a short while. The
 * --no-cache test mode forbids storing anything so every request is a real transfer.
 */
import { isManifest } from './mime.js';

/** Seconds a segment (or any non-manifest file) may be reused without revalidation. */
export const SEGMENT_MAX_AGE_SEC = 60;

export const NO_STORE = 'no-store';
export const NO_CACHE = 'no-cache';
const SEGMENT = `public, max-age=${SEGMENT_MAX_AGE_SEC}`;

/** Cache-Control for a file response. */
export function cacheControlForFile(fileName: string, noCacheMode: boolean): string {
  if (noCacheMode) return NO_STORE;
  return isManifest(fileName) ? NO_CACHE : SEGMENT;
}

/** Cache-Control for generated pages (listings) and error responses. */
export function cacheControlForGenerated(noCacheMode: boolean): string {
  return noCacheMode ? NO_STORE : NO_CACHE;
}
