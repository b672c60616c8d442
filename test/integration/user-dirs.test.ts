/**
 * User directories (`-u`) against a hostile filesystem: the server may run as root, and every
 * account's public_html is in the hands of that account.
 */
import assert from 'node:assert/strict';
import { chownSync, lchownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { get, rawRequest } from '../helpers/http.js';
import { startCli, type ServerProcess } from '../helpers/server-process.js';

const isRoot = process.getuid?.() === 0;
/** As root the test plays two ordinary users; otherwise it can only be itself. */
const ALICE = isRoot ? 1000 : process.getuid!();
const BOB = isRoot ? 1001 : process.getuid!();
let dir: string;

const put = (relative: string, content: string, owner = ALICE): string => {
  const path = join(dir, relative);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  if (isRoot) chownSync(path, owner, owner);
  return path;
};
const ownDir = (relative: string, owner: number): void => {
  mkdirSync(join(dir, relative), { recursive: true });
  if (isRoot) chownSync(join(dir, relative), owner, owner);
};
const link = (target: string, relative: string, owner: number): void => {
  symlinkSync(target, join(dir, relative));
  if (isRoot) lchownSync(join(dir, relative), owner, owner);
};

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'mediacast-users-'));
  mkdirSync(join(dir, 'site'));
  writeFileSync(join(dir, 'site/who.txt'), 'site');
  writeFileSync(join(dir, 'outside.txt'), 'SECRET outside every public_html');
  ownDir('home/alice/public_html', ALICE);
  put('home/alice/public_html/hello.txt', 'hello from alice');
  put('home/alice/public_html/sub/x.txt', 'x');
  put('home/alice/secret.txt', 'not public');
  put('home/alice/other/own.txt', 'alice elsewhere');
  // Links inside public_html: same owner and inside (served), to another owner's file, and out.
  link('hello.txt', 'home/alice/public_html/alias.txt', ALICE);
  put('home/alice/public_html/roots.txt', 'owned by root', 0);
  link('roots.txt', 'home/alice/public_html/to-roots.txt', ALICE);
  link(join(dir, 'home/alice/other/own.txt'), 'home/alice/public_html/out.txt', ALICE);
  link(join(dir, 'home/alice/other'), 'home/alice/public_html/out-dir', ALICE);
  // mallory's public_html is a symlink to / ; carol's belongs to someone else; sys is a system account.
  mkdirSync(join(dir, 'home/mallory'), { recursive: true });
  link('/', 'home/mallory/public_html', BOB);
  ownDir('home/carol/public_html', ALICE);
  put('home/carol/public_html/c.txt', 'carol', ALICE);
  ownDir('home/root/public_html', 0);
  put('home/root/public_html/r.txt', 'root', 0);
  ownDir('home/sys/public_html', 0);
  put('home/sys/public_html/s.txt', 'sys', 0);
  writeFileSync(
    join(dir, 'passwd'),
    [
      `root:x:0:0::${join(dir, 'home/root')}:/bin/sh`,
      `sys:x:100:100::${join(dir, 'home/sys')}:/usr/sbin/nologin`,
      `alice:x:${ALICE}:${ALICE}::${join(dir, 'home/alice')}:/bin/sh`,
      `mallory:x:${BOB}:${BOB}::${join(dir, 'home/mallory')}:/bin/sh`,
      `carol:x:${isRoot ? 1002 : ALICE + 1}:1002::${join(dir, 'home/carol')}:/bin/sh`,
      `nobody:x:65534:65534::${join(dir, 'home/alice')}:/usr/sbin/nologin`,
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'users.json'), JSON.stringify({ servers: [{ path: 'site', userDirs: { passwd: 'passwd' } }] }));
});

after(() => rmSync(dir, { recursive: true, force: true }));

async function withServer(args: string[], body: (base: string) => Promise<void>): Promise<void> {
  const server: ServerProcess = await startCli(['--config', 'users.json', '--workers', '1', ...args], { cwd: dir });
  try {
    await body(server.url.replace(/\/$/, ''));
  } finally {
    assert.equal(await server.stop(), 0);
  }
}

const status = async (url: string): Promise<number> => (await get(url)).status;

describe('user directories', () => {
  test('public_html of an ordinary account is served, nothing else of its home; the rest of the site as usual', async () => {
    await withServer(isRoot ? [] : ['--user-min-uid', String(ALICE)], async (base) => {
      assert.equal((await get(`${base}/~alice/hello.txt`)).body.toString(), 'hello from alice');
      assert.equal((await get(`${base}/~alice/sub/x.txt`)).body.toString(), 'x');
      assert.equal((await get(`${base}/~alice`)).headers.location, '/~alice/');
      assert.match((await get(`${base}/~alice/`)).body.toString(), /hello\.txt/);
      assert.equal((await get(`${base}/who.txt`)).body.toString(), 'site');
      assert.equal(await status(`${base}/~ghost/hello.txt`), 404, 'unknown user');
      // node:http and fetch normalise "..": only a raw request sends it.
      assert.equal((await rawRequest(base, '/~alice/../secret.txt')).status, 400);
      assert.equal((await rawRequest(base, '/~alice/%2e%2e/secret.txt')).status, 400);
    });
  });

  test('a public_html that is a symlink (to /) is not served at all', async () => {
    await withServer(isRoot ? [] : ['--user-min-uid', String(ALICE)], async (base) => {
      assert.equal(await status(`${base}/~mallory/etc/passwd`), 404);
      assert.equal(await status(`${base}/~mallory/`), 404);
      const listing = await rawRequest(base, '/~mallory/etc/shadow');
      assert.equal(listing.status, 404);
      assert.doesNotMatch(listing.body.toString(), /root:/);
    });
  });

  test('root, system accounts (below --user-min-uid) and the overflow uid are never served', { skip: !isRoot && 'needs root to own files as other users' }, async () => {
    await withServer([], async (base) => {
      assert.equal(await status(`${base}/~root/r.txt`), 404);
      assert.equal(await status(`${base}/~sys/s.txt`), 404);
      assert.equal(await status(`${base}/~nobody/hello.txt`), 404, 'uid 65534, even with a served home');
    });
    await withServer(['--user-min-uid', String(BOB)], async (base) => {
      assert.equal(await status(`${base}/~alice/hello.txt`), 404, `alice's uid ${ALICE} is below the minimum`);
    });
  });

  test('a public_html owned by someone else is not served', { skip: !isRoot && 'needs root to own files as other users' }, async () => {
    await withServer([], async (base) => {
      assert.equal(await status(`${base}/~carol/c.txt`), 404);
    });
  });

  test('symlinks inside public_html: followed when link and target share an owner and stay inside, else 404', async () => {
    await withServer(isRoot ? [] : ['--user-min-uid', String(ALICE)], async (base) => {
      assert.equal((await get(`${base}/~alice/alias.txt`)).body.toString(), 'hello from alice');
      if (isRoot) assert.equal(await status(`${base}/~alice/to-roots.txt`), 404, 'target owned by root');
      assert.equal(await status(`${base}/~alice/out.txt`), 404, 'same owner, but outside public_html');
      assert.equal(await status(`${base}/~alice/out-dir/own.txt`), 404);
      const listing = (await get(`${base}/~alice/`)).body.toString();
      assert.doesNotMatch(listing, /out\.txt|out-dir/, 'links leading out are not listed');
    });
  });

  test('--user-min-uid needs -u, and takes a uid', async () => {
    const { runCli } = await import('../helpers/server-process.js');
    const alone = await runCli(['--path', dir, '--user-min-uid', '1000', '--print-config']);
    assert.equal(alone.code, 2);
    assert.match(alone.stderr, /--user-min-uid \(option 2\): applies to user directories, which are not on for this site \(add -u\)/);
    const zero = await runCli(['--path', dir, '-u', '--user-min-uid', '0']);
    assert.equal(zero.code, 2);
    assert.match(zero.stderr, /--user-min-uid \(option 3\): got "0", expected a uid from 1/);
  });
});
