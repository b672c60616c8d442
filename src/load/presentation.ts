/**
 * What a simulated player plays, whatever the manifest format: renditions sorted by bandwidth,
 * each a list of segments with absolute URLs and durations. Built by hls-manifest.ts and
 * dash-manifest.ts.
 */
/** Something to download: a URL, and a byte range of it (first and last byte) or null for all. */
export interface Resource {
  readonly url: string;
  readonly range: readonly [number, number] | null;
}

export interface Segment extends Resource {
  /** Seconds of media. */
  readonly duration: number;
  /** Position in the stream (HLS media sequence, DASH segment number): follows a live window. */
  readonly sequence: number;
}

/** What the manifest declares about a rendition (for the ABR and the reports). */
export interface RenditionInfo {
  /** Declared bits per second (BANDWIDTH); 0 when the manifest says none. */
  readonly bandwidth: number;
  /** For reports: the resolution, or the playlist name. */
  readonly label: string;
  /** RFC 6381 codecs (`avc1.4d401e,mp4a.40.2`), or null when not declared. */
  readonly codecs: string | null;
  readonly resolution: { readonly width: number; readonly height: number } | null;
  readonly frameRate: number | null;
}

export interface Rendition extends RenditionInfo {
  /** Fetched once before this rendition's first segment (fMP4 init), or null. */
  readonly init: Resource | null;
  readonly segments: readonly Segment[];
  /** The media playlist to reload for a live HLS stream; null otherwise. */
  readonly playlistUrl: string | null;
}

export interface Presentation {
  readonly format: 'hls' | 'dash';
  /** Lowest bandwidth first. */
  readonly renditions: readonly Rendition[];
  /** DASH: an audio track fetched beside the video, segment for segment; null when muxed. */
  readonly audio: Rendition | null;
  /** Live (no end list / dynamic MPD): playlists are reloaded and their window followed. */
  readonly live: boolean;
  /** Seconds between playlist reloads for live streams. */
  readonly targetDuration: number;
}
