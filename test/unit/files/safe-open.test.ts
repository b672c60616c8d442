/** The checks made on descriptors, against a real filesystem swapped under them. */
import assert from 'node:assert/strict';
import { chownSync, closeSync, linkSync, mkdirSync, mkdtempSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DirectoryCache } from '../../../src/files/directory-cache.js';
import { CHANGED, FD_PATHS, openVerified, ownedDirectoryPath } from '../../../src/files/safe-open.js';

const isRoot = process.getuid?.() === 0;
let base: string;
let root: string;

before(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'mediacast-safe-open-')));
  root = join(base, 'root');
  mkdirSync(join(root, 'sub'), { recursive: true });
  mkdirSync(join(base, 'outside'));
  writeFileSync(join(root, 'sub', 'f.txt'), 'inside');
  writeFileSync(join(base, 'outside', 'f.txt'), 'outside');
  symlinkSync(join(base, 'outside'), join(root, 'away'));
  symlinkSync(join(base, 'outside', 'f.txt'), join(root, 'link.txt'));
});

after(() => rmSync(base, { recursive: true, force: true }));

const code = (error: unknown): string | undefined => (error as NodeJS.ErrnoException).code;

test('a final symlink is never followed', async () => {
  await assert.rejects(openVerified(join(root, 'link.txt'), { root }), (e) => code(e) === CHANGED);
});

test('a directory on the path that leads out of the root is caught on the descriptor (even with the right inode)', { skip: !FD_PATHS && 'needs /proc' }, async () => {
  const outside = statSync(join(base, 'outside', 'f.txt'));
  // As if the resolution had raced and stat'ed the outside file: only the kernel path tells.
  await assert.rejects(openVerified(join(root, 'away', 'f.txt'), { root, dev: outside.dev, ino: outside.ino }), (e) => code(e) === CHANGED);
});

test('another file than the one resolved is refused', async () => {
  const other = statSync(join(base, 'outside', 'f.txt'));
  await assert.rejects(openVerified(join(root, 'sub', 'f.txt'), { root, dev: other.dev, ino: other.ino }), (e) => code(e) === CHANGED);
  const opened = await openVerified(join(root, 'sub', 'f.txt'), { root });
  closeSync(opened.fd);
});

test('a file of another owner is refused in an owned root (a hard link to someone else\'s file)', { skip: !isRoot && 'needs root to own files as another user' }, async () => {
  const home = join(base, 'home');
  mkdirSync(home);
  chownSync(home, 1000, 1000);
  writeFileSync(join(base, 'roots-secret'), 'secret');
  linkSync(join(base, 'roots-secret'), join(home, 'hard.txt'));
  await assert.rejects(openVerified(join(home, 'hard.txt'), { root: home, owner: 1000 }), (e) => code(e) === 'EACCES');
});

test('an owned directory: a real directory of that uid; its path comes from the descriptor', async () => {
  const uid = process.getuid!();
  assert.equal(await ownedDirectoryPath(root, uid), root);
  await assert.rejects(ownedDirectoryPath(join(root, 'away'), uid), (e) => code(e) === 'ENOENT', 'a symlink to a directory');
  await assert.rejects(ownedDirectoryPath(root, uid + 1), (e) => code(e) === 'ENOENT', 'someone else\'s');
  await assert.rejects(ownedDirectoryPath(join(root, 'sub', 'f.txt'), uid), (e) => code(e) === 'ENOENT', 'a file');
});

test('a directory read for a listing is checked on its descriptor: one that leads out is refused', { skip: !FD_PATHS && 'needs /proc' }, async () => {
  const directories = new DirectoryCache();
  const version = await directories.read(join(root, 'sub'), { root });
  assert.deepEqual(version.entries.map((e) => e.name), ['f.txt']);
  assert.ok(version.entries[0]!.stats.isFile());
  await assert.rejects(directories.read(join(root, 'away'), { root }), (e) => code(e) === CHANGED);
});
