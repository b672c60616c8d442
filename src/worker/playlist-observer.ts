/**
 * Tells the coordinator what the playlists this worker serves say about renditions (for the
 * control plane's per-client view), once per playlist version: only small playlists already in
 * memory, so nothing is read for it.
 */
import type { CachedFile } from '../files/file-cache.js';
import { collapseSlashes, playlistFacts, type PlaylistFacts } from '../stats/playlist-facts.js';

const PLAYLIST_TYPES = ['application/vnd.apple.mpegurl', 'application/x-mpegurl', 'audio/mpegurl', 'application/dash+xml'];
/** Playlist versions remembered (a live playlist changes every segment: one entry per path). */
const MAX_REMEMBERED = 10_000;

export class PlaylistObserver {
  readonly #seen = new Map<string, string>();
  readonly #send: (facts: PlaylistFacts) => void;

  constructor(send: (facts: PlaylistFacts) => void) {
    this.#send = send;
  }

  /** `file` was served whole at URL path `path` from `body`. */
  served(rawPath: string, file: CachedFile, body: Buffer): void {
    // Called for every small file served whole: no string made unless it is a playlist.
    const type = file.facts.contentType;
    if (!PLAYLIST_TYPES.some((playlist) => type.startsWith(playlist))) return;
    // As the file was found (empty segments skipped): `//v1/index.m3u8` is /v1/index.m3u8.
    const path = collapseSlashes(rawPath);
    // Once per file version and path (collapsed: extra slashes make no new entry).
    const identity = `${file.dev}:${file.ino}:${path}`;
    const version = `${file.mtimeMs}:${file.size}`;
    if (this.#seen.get(identity) === version) return;
    this.#seen.delete(identity);
    this.#seen.set(identity, version);
    if (this.#seen.size > MAX_REMEMBERED) this.#seen.delete(this.#seen.keys().next().value!);
    const facts = playlistFacts(body.toString('utf8'), path);
    if (facts !== null) this.#send(facts);
  }
}
