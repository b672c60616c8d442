/**
 * Opening what was resolved inside a root, treating the filesystem as hostile: between the check
 * and the open, any component of the path may have been swapped for a symlink, a FIFO or another
 * file. So the check is made again on the descriptor itself:
 * - `O_NOFOLLOW`: a final component turned symlink fails (ELOOP) instead of being followed;
 * - `O_NONBLOCK`: a FIFO swapped in opens at once instead of pinning a libuv pool thread until a
 *   writer comes (then fstat refuses it: only regular files are served); `O_NOCTTY`: a terminal
 *   swapped in never becomes the server's controlling terminal;
 * - the descriptor's device and inode must be the ones resolved, and for a user directory its
 *   owner must be that user (a hard link to someone else's file is refused);
 * - on Linux, the path the kernel reports for the descriptor (`/proc/self/fd/N`) must lie inside
 *   the root: this catches a directory component swapped for a symlink mid-way.
 */
import { close, constants, fstat, open, readlinkSync, type Stats } from 'node:fs';
import { lstat, realpath } from 'node:fs/promises';
import { sep } from 'node:path';
import { promisify } from 'node:util';

const openAsync = promisify(open);
const fstatAsync = promisify(fstat);
const closeAsync = promisify(close);

const FILE_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | (constants.O_NOFOLLOW ?? 0) | (constants.O_NOCTTY ?? 0);
const DIRECTORY_FLAGS = FILE_FLAGS | (constants.O_DIRECTORY ?? 0);

/** Where an opened file must be: under `root`, and (when known) this exact file. */
export interface Expected {
  /** Real path of the root the file was resolved under. */
  readonly root: string;
  readonly dev?: number;
  readonly ino?: number;
  /** Uid that must own the file (user directories), if any. */
  readonly owner?: number;
}

/** Error codes of a file that is no longer what was resolved (the caller resolves again). */
export const CHANGED = 'ECHANGED';

/** True when a descriptor's kernel path can be read (Linux with /proc mounted). */
export const FD_PATHS = ((): boolean => {
  try {
    readlinkSync('/proc/self/exe');
    return true;
  } catch {
    return false;
  }
})();

/** The path through which the kernel reaches descriptor `fd` itself (Linux), whatever happens to its name. */
export function descriptorPath(fd: number): string {
  return `/proc/self/fd/${fd}`;
}

/** Opens `path` for reading and checks through the descriptor that it is the expected regular file. */
export async function openVerified(path: string, expected: Expected): Promise<{ fd: number; stats: Stats }> {
  const fd = await openChecked(path, FILE_FLAGS);
  try {
    const stats = await fstatAsync(fd);
    if (!stats.isFile()) throw Object.assign(new Error(`${path} is not a regular file`), { code: 'ENOTFILE' });
    checkIdentity(path, fd, stats, expected);
    return { fd, stats };
  } catch (error) {
    await closeAsync(fd);
    throw error;
  }
}

/**
 * Opens the directory at `path` (resolved under `expected.root`) and checks it on the descriptor;
 * the caller reads it through descriptorPath(fd) (Linux) and closes it.
 */
export async function openDirectoryVerified(path: string, expected: Expected): Promise<{ fd: number; stats: Stats }> {
  const fd = await openChecked(path, DIRECTORY_FLAGS);
  try {
    const stats = await fstatAsync(fd);
    if (!stats.isDirectory()) throw Object.assign(new Error(`${path} is not a directory`), { code: 'ENOTDIR' });
    checkIdentity(path, fd, stats, expected);
    return { fd, stats };
  } catch (error) {
    await closeAsync(fd);
    throw error;
  }
}

export function closeDescriptor(fd: number): Promise<void> {
  return closeAsync(fd);
}

/**
 * The real path of a directory that must be a real directory (not a symlink) owned by `owner`: a
 * user's public_html. Its owner may swap it for a symlink at any moment, so the path is taken from
 * the very descriptor whose owner was checked (or, without /proc, the path's realpath checked to
 * be that same directory). Throws ENOENT when it is not such a directory.
 */
export async function ownedDirectoryPath(path: string, owner: number): Promise<string> {
  const refused = (): Error => Object.assign(new Error(`${path} is not a directory of uid ${owner}`), { code: 'ENOENT' });
  let fd: number;
  try {
    fd = await openAsync(path, DIRECTORY_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'ENOTDIR') throw refused();
    throw error;
  }
  try {
    const stats = await fstatAsync(fd);
    if (!stats.isDirectory() || stats.uid !== owner) throw refused();
    if (FD_PATHS) return readlinkSync(descriptorPath(fd));
    const real = await realpath(path);
    const again = await lstat(real);
    if (again.dev !== stats.dev || again.ino !== stats.ino) throw refused();
    return real;
  } finally {
    await closeAsync(fd);
  }
}

/** `path` is `root` itself or below it. */
export function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

async function openChecked(path: string, flags: number): Promise<number> {
  try {
    return await openAsync(path, flags);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // The final component became a symlink since it was resolved (a directory opened with
    // O_DIRECTORY | O_NOFOLLOW reports that as ENOTDIR).
    if (code === 'ELOOP' || (code === 'ENOTDIR' && flags === DIRECTORY_FLAGS)) throw changed(path, 'turned into a symlink');
    throw error;
  }
}

function checkIdentity(path: string, fd: number, stats: Stats, expected: Expected): void {
  if ((expected.dev !== undefined && stats.dev !== expected.dev) || (expected.ino !== undefined && stats.ino !== expected.ino)) {
    throw changed(path, 'was replaced');
  }
  if (expected.owner !== undefined && stats.uid !== expected.owner) throw Object.assign(new Error(`${path} belongs to another user`), { code: 'EACCES' });
  if (FD_PATHS && !isInside(expected.root, readlinkSync(descriptorPath(fd)))) throw changed(path, 'leads outside its root');
}

function changed(path: string, what: string): Error {
  return Object.assign(new Error(`${path} ${what} after it was resolved`), { code: CHANGED });
}
