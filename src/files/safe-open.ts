/**
 * Opening a file that was resolved inside a root, treating the filesystem as hostile: between the
 * check and the open, any component of the path may have been swapped for a symlink, a FIFO or
 * another file. So the check is made again on the descriptor itself:
 * - `O_NOFOLLOW`: a final component turned symlink fails (ELOOP) instead of being followed;
 * - `O_NONBLOCK`: a FIFO swapped in opens at once instead of pinning a libuv pool thread until a
 *   writer comes (then fstat refuses it: only regular files are served);
 * - the descriptor's device and inode must be the ones resolved;
 * - on Linux, the path the kernel reports for the descriptor (`/proc/self/fd/N`) must lie inside
 *   the root: this catches a directory component swapped for a symlink mid-way.
 */
import { close, constants, fstat, open, readlinkSync, type Stats } from 'node:fs';
import { sep } from 'node:path';
import { promisify } from 'node:util';

const openAsync = promisify(open);
const fstatAsync = promisify(fstat);
const closeAsync = promisify(close);

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | (constants.O_NOFOLLOW ?? 0);

/** Where an opened file must be: under `root`, and (when known) this exact file. */
export interface Expected {
  /** Real path of the root the file was resolved under. */
  readonly root: string;
  readonly dev?: number;
  readonly ino?: number;
}

/** Error codes of a file that is no longer what was resolved (the caller resolves again). */
export const CHANGED = 'ECHANGED';

/** True when a descriptor's kernel path can be read (Linux with /proc mounted). */
const FD_PATHS = ((): boolean => {
  try {
    readlinkSync('/proc/self/exe');
    return true;
  } catch {
    return false;
  }
})();

/** Opens `path` for reading and checks through the descriptor that it is the expected regular file. */
export async function openVerified(path: string, expected: Expected): Promise<{ fd: number; stats: Stats }> {
  let fd: number;
  try {
    fd = await openAsync(path, OPEN_FLAGS);
  } catch (error) {
    // The final component became a symlink since it was resolved.
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw changed(path, 'turned into a symlink');
    throw error;
  }
  try {
    const stats = await fstatAsync(fd);
    if (!stats.isFile()) throw Object.assign(new Error(`${path} is not a regular file`), { code: 'ENOTFILE' });
    if ((expected.dev !== undefined && stats.dev !== expected.dev) || (expected.ino !== undefined && stats.ino !== expected.ino)) {
      throw changed(path, 'was replaced');
    }
    if (FD_PATHS && !isInside(expected.root, readlinkSync(`/proc/self/fd/${fd}`))) throw changed(path, 'leads outside its root');
    return { fd, stats };
  } catch (error) {
    await closeAsync(fd);
    throw error;
  }
}

/** `path` is `root` itself or below it. */
export function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

function changed(path: string, what: string): Error {
  return Object.assign(new Error(`${path} ${what} after it was resolved`), { code: CHANGED });
}
