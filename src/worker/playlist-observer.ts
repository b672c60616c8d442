/**
 * Tells the coordinator what the playlists this worker serves say about renditions (for the
 * control plane's per-client view), once per playlist version: only small playlists already in
 * memory, so nothing is read for it.
 */
import type { CachedFile } from '../files/file-cache.js';
import { playlistFacts, type PlaylistFacts } from '../stats/playlist-facts.js';

const PLAYLIST_TYPES = new Set(['application/vnd.apple.mpegurl', 'application/x-mpegurl', 'audio/mpegurl', 'application/dash+xml']);
/** Playlist versions remembered (a live playlist changes every segment: one entry per path). */
const MAX_REMEMBERED = 10_000;

export class PlaylistObserver {
  readonly #seen = new Map<string, string>();
  readonly #send: (facts: PlaylistFacts) => void;

  constructor(send: (facts: PlaylistFacts) => void) {
    this.#send = send;
  }

  /** `file` was served whole at URL path `path` from `body`. */
  served(path: string, file: CachedFile, body: Buffer): void {
    if (!PLAYLIST_TYPES.has(file.facts.contentType.split(';')[0]!.trim().toLowerCase())) return;
    const version = `${file.dev}:${file.ino}:${file.mtimeMs}:${file.size}`;
    if (this.#seen.get(path) === version) return;
    this.#seen.delete(path);
    this.#seen.set(path, version);
    if (this.#seen.size > MAX_REMEMBERED) this.#seen.delete(this.#seen.keys().next().value!);
    const facts = playlistFacts(body.toString('utf8'), path);
    if (facts !== null) this.#send(facts);
  }
}
