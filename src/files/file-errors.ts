/**
 * The one map from filesystem errors to what a client is told: gone (404), forbidden (403), the
 * server out of descriptors or memory for now (503), or a real failure (null: 500, logged).
 */
import { CHANGED } from './safe-open.js';

export type FileErrorKind = 'missing' | 'forbidden' | 'busy';

const KINDS: ReadonlyMap<string, FileErrorKind> = new Map([
  ['ENOENT', 'missing'],
  ['ENOTDIR', 'missing'],
  ['ENAMETOOLONG', 'missing'],
  ['ELOOP', 'missing'],
  // Not a regular file, or no longer the file that was resolved.
  ['ENOTFILE', 'missing'],
  [CHANGED, 'missing'],
  ['EACCES', 'forbidden'],
  ['EPERM', 'forbidden'],
  ['EMFILE', 'busy'],
  ['ENFILE', 'busy'],
  ['ENOMEM', 'busy'],
]);

/** What a filesystem error means for the response, or null when it is an unexpected failure. */
export function fileErrorKind(error: unknown): FileErrorKind | null {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === undefined ? null : (KINDS.get(code) ?? null);
}
