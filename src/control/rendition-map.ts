/**
 * Which rendition a path belongs to, per server, learnt from the playlists the workers served
 * (stats/playlist-facts.ts): an HLS variant playlist by the master's BANDWIDTH, its segments by
 * their playlist, a DASH segment by its representation. Bounded: the oldest paths go first.
 */
import { collapseSlashes, type PlaylistFacts, type RenditionTag } from '../stats/playlist-facts.js';

/** Paths remembered per server (all kinds together). */
const MAX_PATHS = 400_000;

class Bounded<V> {
  readonly #map = new Map<string, V>();
  set(key: string, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > MAX_PATHS) this.#map.delete(this.#map.keys().next().value!);
  }
  get(key: string): V | undefined {
    return this.#map.get(key);
  }
}

interface ServerRenditions {
  /** Variant playlist path -> its rendition (masters), or segment path -> its rendition (MPDs). */
  readonly tags: Bounded<RenditionTag>;
  /** Segment path -> the media playlist that lists it. */
  readonly playlists: Bounded<string>;
}

export class RenditionMap {
  readonly #servers = new Map<number, ServerRenditions>();

  learn(server: number, facts: PlaylistFacts): void {
    const known = this.#of(server);
    switch (facts.kind) {
      case 'master':
        for (const { playlist, rendition } of facts.variants) known.tags.set(playlist, rendition);
        return;
      case 'media':
        for (const segment of facts.segments) known.playlists.set(segment, facts.playlist);
        return;
      case 'mpd':
        for (const { rendition, paths } of facts.renditions) for (const path of paths) known.tags.set(path, rendition);
        return;
    }
  }

  /** The rendition `path` (a URL path, query left out) belongs to, or null when no playlist served here said. */
  renditionOf(server: number, rawPath: string): RenditionTag | null {
    const known = this.#servers.get(server);
    if (known === undefined) return null;
    const path = collapseSlashes(rawPath);
    const direct = known.tags.get(path);
    if (direct !== undefined) return direct;
    const playlist = known.playlists.get(path);
    return playlist === undefined ? null : (known.tags.get(playlist) ?? null);
  }

  #of(server: number): ServerRenditions {
    let known = this.#servers.get(server);
    if (known === undefined) {
      known = { tags: new Bounded(), playlists: new Bounded() };
      this.#servers.set(server, known);
    }
    return known;
  }
}
