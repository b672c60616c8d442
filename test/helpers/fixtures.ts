/**
 * Builds a throw-away document root with real sample media and hostile names (as pillarjs/send's
 * fixtures do), plus a secret next to it that no request may ever reach.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DEMO_MEDIA } from './server-process.js';

export interface FixtureRoot {
  /** The parent temp directory (holds `root/` and `outside/`). */
  readonly base: string;
  /** The document root to serve. */
  readonly root: string;
  /** A file outside the root whose content must never be served. */
  readonly secretContent: string;
  cleanup(): void;
}

const SAMPLE_MEDIA = [
  'master.m3u8',
  'v0/index.m3u8',
  'v0/seg_000.ts',
  'v2/seg_000.ts',
  'dash/manifest.mpd',
  'dash/init-stream0.m4s',
  'dash/chunk-stream0-00001.m4s',
  'hds/index.f4m',
  'hds/stream0.abst',
  'hds/stream0Seg1-Frag1',
];

export function makeFixtureRoot(): FixtureRoot {
  const base = mkdtempSync(join(tmpdir(), 'mediacast-test-'));
  const root = join(base, 'root');
  const put = (relative: string, content: string | Buffer): void => {
    const path = join(root, relative);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  };
  for (const file of SAMPLE_MEDIA) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    copyFileSync(join(DEMO_MEDIA, file), join(root, file));
  }
  put('.hidden.txt', 'hidden\n');
  put('.private/notes.txt', 'private\n');
  put('do..ts.txt', 'double dots are fine\n');
  put('some thing.txt', 'space in name\n');
  put('no_ext', 'no extension\n');
  put('empty.txt', '');
  put('<script>.ts', 'x');
  put('a"quote"&amp.txt', 'quote\n');
  put('snow ☃/index.html', '<p>snowman</p>\n');
  put('both/index', 'index wins\n');
  put('both/index.html', 'index.html loses\n');
  put('only-html/index.html', '<p>only html</p>\n');
  put('listing/b.txt', 'b');
  put('listing/a.txt', 'a');
  put('listing/seg_10.ts', 'x');
  put('listing/seg_2.ts', 'x');
  put('listing/sub/c.txt', 'c');
  put('playlist.m3u8', '#EXTM3U\n');
  put('ten.bin', Buffer.from('0123456789'));
  const secretContent = 'TOP SECRET outside the root\n';
  mkdirSync(join(base, 'outside'), { recursive: true });
  writeFileSync(join(base, 'outside', 'secret.txt'), secretContent);
  symlinkSync(join(base, 'outside', 'secret.txt'), join(root, 'escape.txt'));
  symlinkSync(join(base, 'outside'), join(root, 'escape-dir'));
  symlinkSync('some thing.txt', join(root, 'inside-link.txt'));
  return { base, root, secretContent, cleanup: () => rmSync(base, { recursive: true, force: true }) };
}
