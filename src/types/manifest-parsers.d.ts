/** The parts of m3u8-parser and mpd-parser (no typings of their own) that the load simulator reads. */
declare module 'm3u8-parser' {
  export interface M3u8Segment {
    uri: string;
    duration: number;
    byterange?: { length: number; offset?: number };
    map?: { uri: string; byterange?: { length: number; offset?: number } };
  }
  export interface M3u8Playlist {
    uri: string;
    attributes: { BANDWIDTH?: number; RESOLUTION?: { width: number; height: number }; CODECS?: string; 'FRAME-RATE'?: number };
  }
  export interface M3u8Manifest {
    playlists?: M3u8Playlist[];
    segments: M3u8Segment[];
    targetDuration?: number;
    mediaSequence?: number;
    endList?: boolean;
  }
  export class Parser {
    manifest: M3u8Manifest;
    push(chunk: string): void;
    end(): void;
  }
}

declare module 'mpd-parser' {
  export interface MpdSegment {
    resolvedUri: string;
    duration: number;
    number?: number;
    byterange?: { length: number; offset?: number };
    map?: { resolvedUri: string; byterange?: { length: number; offset?: number } };
  }
  export interface MpdPlaylist {
    attributes: { NAME?: string; BANDWIDTH?: number; RESOLUTION?: { width: number; height: number }; CODECS?: string; 'FRAME-RATE'?: number };
    segments: MpdSegment[];
    /** SegmentBase: a segment index to fetch and parse first. */
    sidx?: unknown;
  }
  export interface MpdManifest {
    playlists?: MpdPlaylist[];
    mediaGroups: { AUDIO?: Record<string, Record<string, { playlists: MpdPlaylist[] }>> };
    endList?: boolean;
    minimumUpdatePeriod?: number;
    targetDuration?: number;
  }
  export function parse(text: string, options: { manifestUri: string }): MpdManifest;
}
