/**
 * Options that change static serving: --cors, --no-cache, --dotfiles, --ignore-ext,
 * --allow-ignore-ext, --index, --mime-type, a single file as root.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeFixtureRoot, type FixtureRoot } from '../helpers/fixtures.js';
import { get } from '../helpers/http.js';
import { startCli, type ServerProcess } from '../helpers/server-process.js';

let fixture: FixtureRoot;
before(() => {
  fixture = makeFixtureRoot();
});
after(() => fixture.cleanup());

/** Starts a server with `args`, runs `body`, stops it (asserting a clean exit). */
async function withServer(args: string[], body: (url: (path: string) => string) => Promise<void>): Promise<void> {
  const server: ServerProcess = await startCli(['--workers', '1', ...args]);
  try {
    await body((path) => new URL(path, server.url).href);
  } finally {
    assert.equal(await server.stop(), 0);
  }
}

describe('--cors', () => {
  test('every response carries the CORS headers, errors included; preflight allows Range', async () => {
    await withServer(['--path', fixture.root, '--cors'], async (url) => {
      for (const path of ['/master.m3u8', '/missing.ts', '/listing']) {
        const res = await get(url(path));
        assert.equal(res.headers['access-control-allow-origin'], '*', path);
        assert.equal(res.headers['timing-allow-origin'], '*', path);
        const exposed = res.headers['access-control-expose-headers']!.toLowerCase();
        for (const name of ['content-length', 'content-range', 'accept-ranges', 'etag']) assert.ok(exposed.includes(name), name);
      }
      const preflight = await get(url('/v0/seg_000.ts'), {
        method: 'OPTIONS',
        headers: {
          origin: 'http://player.example',
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'range, x-session-id',
        },
      });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers['access-control-allow-origin'], '*');
      assert.match(preflight.headers['access-control-allow-methods']!, /GET/);
      const allowed = preflight.headers['access-control-allow-headers']!.split(',').map((s) => s.trim());
      assert.ok(allowed.includes('range'));
      assert.ok(allowed.includes('x-session-id'));
    });
  });
});

describe('--no-cache', () => {
  test('no-store everywhere and never a 304', async () => {
    await withServer(['--path', fixture.root, '--no-cache'], async (url) => {
      const first = await get(url('/master.m3u8'));
      assert.equal(first.headers['cache-control'], 'no-store');
      assert.equal((await get(url('/v0/seg_000.ts'))).headers['cache-control'], 'no-store');
      assert.equal((await get(url('/missing'))).headers['cache-control'], 'no-store');
      const again = await get(url('/master.m3u8'), {
        headers: { 'if-none-match': first.headers.etag!, 'if-modified-since': first.headers['last-modified']! },
      });
      assert.equal(again.status, 200);
      assert.ok(again.body.length > 0);
    });
  });
});

describe('--dotfiles', () => {
  test('serves and lists hidden names', async () => {
    await withServer(['--path', fixture.root, '--dotfiles'], async (url) => {
      assert.equal((await get(url('/.hidden.txt'))).body.toString(), 'hidden\n');
      assert.equal((await get(url('/.private/notes.txt'))).status, 200);
      assert.ok((await get(url('/'))).body.toString().includes('.hidden.txt'));
    });
  });
});

describe('--ignore-ext and --allow-ignore-ext', () => {
  test('a request for foo serves foo.EXT for the listed extensions, in order', async () => {
    await withServer(['--path', fixture.root, '--ignore-ext', '.txt', '--ignore-ext', 'm3u8'], async (url) => {
      const res = await get(url('/playlist'));
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'application/vnd.apple.mpegurl');
      assert.equal((await get(url('/empty'))).status, 200);
      assert.equal((await get(url('/ten'))).status, 404);
    });
  });

  test('--allow-ignore-ext accepts any extension', async () => {
    await withServer(['--path', fixture.root, '--allow-ignore-ext'], async (url) => {
      assert.equal((await get(url('/ten'))).body.toString(), '0123456789');
      assert.equal((await get(url('/hidden'))).status, 404, 'never reaches a dotfile');
    });
  });
});

describe('--index and --mime-type', () => {
  test('custom index order and default type', async () => {
    await withServer(['--path', fixture.root, '-i', 'index.html', '-i', 'index', '--mime-type', 'video/f4f'], async (url) => {
      assert.equal((await get(url('/both/'))).body.toString(), 'index.html loses\n');
      assert.equal((await get(url('/hds/stream0Seg1-Frag1'))).headers['content-type'], 'video/f4f');
      assert.equal((await get(url('/no_ext'))).headers['content-type'], 'video/f4f');
    });
  });
});

describe('live playlists', () => {
  test('a playlist rewritten in place is served fresh within about a second', async () => {
    const live = join(fixture.root, 'live.m3u8');
    writeFileSync(live, '#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:1\n');
    await withServer(['--path', fixture.root], async (url) => {
      assert.match((await get(url('/live.m3u8'))).body.toString(), /SEQUENCE:1/);
      // Same size, new content: only the modification time tells (the cache checks it every second).
      writeFileSync(live, '#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:2\n');
      const changedAt = performance.now();
      let seen = '';
      while (performance.now() - changedAt < 3000 && !seen.includes('SEQUENCE:2')) {
        seen = (await get(url('/live.m3u8'))).body.toString();
        await new Promise((resolveTick) => setTimeout(resolveTick, 20));
      }
      const stale = performance.now() - changedAt;
      assert.match(seen, /SEQUENCE:2/);
      assert.ok(stale < 1600, `stale for ${stale.toFixed(0)} ms`);
    });
  });
});

describe('a single file as the root', () => {
  test('is served at / and under its own name, nothing else', async () => {
    await withServer(['--path', join(fixture.root, 'ten.bin')], async (url) => {
      assert.equal((await get(url('/'))).body.toString(), '0123456789');
      assert.equal((await get(url('/ten.bin'))).body.toString(), '0123456789');
      assert.equal((await get(url('/other'))).status, 404);
    });
  });
});
