/**
 * Validators sent with every file: a strong ETag from size and modification time (never a hash
 * of the contents: segment libraries hold huge files) and Last-Modified.
 */
import type { Validators } from './conditional.js';

/** Validators plus their header forms, computed once per file version. */
export interface FileValidators extends Validators {
  /** Last-Modified header value (IMF-fixdate). */
  readonly lastModified: string;
}

/** Builds the validators of a file from its size and mtime. */
export function fileValidators(size: number, mtimeMs: number): FileValidators {
  const lastModifiedSec = Math.floor(mtimeMs / 1000);
  return {
    etag: `"${size.toString(16)}-${Math.floor(mtimeMs).toString(16)}"`,
    lastModifiedSec,
    lastModified: new Date(lastModifiedSec * 1000).toUTCString(),
  };
}
