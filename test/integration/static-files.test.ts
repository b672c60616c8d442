/**
 * Static serving over real sockets: MIME types of every sample format, ranges at the edges,
 * validators and 304/412, HEAD, directories, listings, and hostile names.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeFixtureRoot, type FixtureRoot } from '../helpers/fixtures.js';
import { get, rawRequest } from '../helpers/http.js';
import { startCli, type ServerProcess } from '../helpers/server-process.js';

let fixture: FixtureRoot;
let server: ServerProcess;

before(async () => {
  fixture = makeFixtureRoot();
  server = await startCli(['--path', fixture.root, '--workers', '2']);
});

after(async () => {
  assert.equal(await server.stop(), 0);
  fixture.cleanup();
});

const url = (path: string): string => new URL(path, server.url).href;

describe('content types', () => {
  const cases: Array<[string, string]> = [
    ['/master.m3u8', 'application/vnd.apple.mpegurl'],
    ['/v0/seg_000.ts', 'video/mp2t'],
    ['/dash/manifest.mpd', 'application/dash+xml'],
    ['/dash/init-stream0.m4s', 'video/iso.segment'],
    ['/dash/chunk-stream0-00001.m4s', 'video/iso.segment'],
    ['/hds/index.f4m', 'application/f4m'],
    ['/hds/stream0Seg1-Frag1', 'application/octet-stream'],
    ['/no_ext', 'application/octet-stream'],
    ['/some%20thing.txt', 'text/plain; charset=utf-8'],
  ];
  for (const [path, type] of cases) {
    test(`${path} is ${type}`, async () => {
      const res = await fetch(url(path));
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), type);
      const body = Buffer.from(await res.arrayBuffer());
      assert.equal(body.length, Number(res.headers.get('content-length')));
    });
  }

  test('manifests are no-cache, segments get a short max-age', async () => {
    assert.equal((await fetch(url('/master.m3u8'))).headers.get('cache-control'), 'no-cache');
    assert.equal((await fetch(url('/dash/manifest.mpd'))).headers.get('cache-control'), 'no-cache');
    assert.match((await fetch(url('/v0/seg_000.ts'))).headers.get('cache-control') ?? '', /max-age=\d+/);
  });
});

describe('bytes served', () => {
  test('a segment arrives byte for byte', async () => {
    const res = await fetch(url('/v2/seg_000.ts'));
    const body = Buffer.from(await res.arrayBuffer());
    assert.deepEqual(body, readFileSync(join(fixture.root, 'v2/seg_000.ts')));
    assert.equal(res.headers.get('accept-ranges'), 'bytes');
  });

  test('an empty file is a 200 with Content-Length 0', async () => {
    const res = await get(url('/empty.txt'));
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-length'], '0');
    assert.equal(res.body.length, 0);
  });

  test('HEAD has the GET headers and no body', async () => {
    const getRes = await get(url('/v0/seg_000.ts'));
    const headRes = await rawRequest(server.url, '/v0/seg_000.ts', { method: 'HEAD' });
    assert.equal(headRes.status, 200);
    assert.equal(headRes.body.length, 0);
    for (const name of ['content-type', 'content-length', 'etag', 'last-modified', 'accept-ranges', 'cache-control']) {
      assert.equal(headRes.headers[name], getRes.headers[name], name);
    }
  });
});

describe('ranges', () => {
  const size = 10; // ten.bin holds "0123456789"
  const cases: Array<[string, number, string, string | undefined]> = [
    ['bytes=0-0', 206, '0', 'bytes 0-0/10'],
    ['bytes=9-9', 206, '9', 'bytes 9-9/10'],
    ['bytes=9-', 206, '9', 'bytes 9-9/10'],
    ['bytes=5-100', 206, '56789', 'bytes 5-9/10'],
    ['bytes=-3', 206, '789', 'bytes 7-9/10'],
    ['bytes=-100', 206, '0123456789', 'bytes 0-9/10'],
    ['bytes=0-', 206, '0123456789', 'bytes 0-9/10'],
    ['bytes=0-1,1-3', 206, '0123', 'bytes 0-3/10'],
    ['bytes=0-1,5-6', 200, '0123456789', undefined],
    ['bytes=5-2', 200, '0123456789', undefined],
    ['items=0-1', 200, '0123456789', undefined],
  ];
  for (const [range, status, body, contentRange] of cases) {
    test(`${range} → ${status}`, async () => {
      const res = await get(url('/ten.bin'), { headers: { range } });
      assert.equal(res.status, status);
      assert.equal(res.body.toString(), body);
      assert.equal(res.headers['content-length'], String(body.length));
      assert.equal(res.headers['content-range'], contentRange);
    });
  }

  test('a range starting past the end is 416 with bytes */size', async () => {
    for (const range of ['bytes=10-', 'bytes=10-20', 'bytes=-0']) {
      const res = await get(url('/ten.bin'), { headers: { range } });
      assert.equal(res.status, 416, range);
      assert.equal(res.headers['content-range'], `bytes */${size}`);
    }
  });

  test('Chromium-style bytes=0- on a playlist gets all of it', async () => {
    const res = await get(url('/master.m3u8'), { headers: { range: 'bytes=0-' } });
    assert.equal(res.status, 206);
    assert.equal(res.body.toString(), readFileSync(join(fixture.root, 'master.m3u8'), 'utf8'));
  });

  test('ranges of a large file come from disk', async () => {
    const whole = readFileSync(join(fixture.root, 'v2/seg_000.ts'));
    const res = await get(url('/v2/seg_000.ts'), { headers: { range: 'bytes=100000-100099' } });
    assert.equal(res.status, 206);
    assert.deepEqual(res.body, whole.subarray(100000, 100100));
  });

  test('If-Range with the current ETag honours the range, a weak or old one sends all', async () => {
    const { headers } = await get(url('/ten.bin'));
    const etag = headers.etag!;
    const strong = await get(url('/ten.bin'), { headers: { range: 'bytes=0-1', 'if-range': etag } });
    assert.equal(strong.status, 206);
    const weak = await get(url('/ten.bin'), { headers: { range: 'bytes=0-1', 'if-range': `W/${etag}` } });
    assert.equal(weak.status, 200);
    assert.equal(weak.body.toString(), '0123456789');
    const old = await get(url('/ten.bin'), { headers: { range: 'bytes=0-1', 'if-range': '"0-0"' } });
    assert.equal(old.status, 200);
    const date = await get(url('/ten.bin'), { headers: { range: 'bytes=0-1', 'if-range': headers['last-modified']! } });
    assert.equal(date.status, 206);
  });
});

describe('validators', () => {
  test('ETag and Last-Modified follow size and mtime', async () => {
    const res = await get(url('/ten.bin'));
    const stats = statSync(join(fixture.root, 'ten.bin'));
    assert.match(res.headers.etag!, /^"[0-9a-f]+-[0-9a-f]+"$/);
    assert.equal(res.headers['last-modified'], new Date(Math.floor(stats.mtimeMs / 1000) * 1000).toUTCString());
  });

  test('If-None-Match → 304, and wins over If-Modified-Since', async () => {
    const { headers } = await get(url('/master.m3u8'));
    const hit = await get(url('/master.m3u8'), { headers: { 'if-none-match': headers.etag! } });
    assert.equal(hit.status, 304);
    assert.equal(hit.body.length, 0);
    assert.equal(hit.headers.etag, headers.etag);
    const list = await get(url('/master.m3u8'), { headers: { 'if-none-match': `"nope", W/${headers.etag}` } });
    assert.equal(list.status, 304);
    const miss = await get(url('/master.m3u8'), {
      headers: { 'if-none-match': '"other"', 'if-modified-since': headers['last-modified']! },
    });
    assert.equal(miss.status, 200);
  });

  test('If-Modified-Since → 304 when not modified since', async () => {
    const { headers } = await get(url('/master.m3u8'));
    const res = await get(url('/master.m3u8'), { headers: { 'if-modified-since': headers['last-modified']! } });
    assert.equal(res.status, 304);
    const older = await get(url('/master.m3u8'), { headers: { 'if-modified-since': 'Thu, 01 Jan 1970 00:00:00 GMT' } });
    assert.equal(older.status, 200);
  });

  test('If-Match and If-Unmodified-Since failures → 412', async () => {
    const { headers } = await get(url('/ten.bin'));
    assert.equal((await get(url('/ten.bin'), { headers: { 'if-match': '"other"' } })).status, 412);
    assert.equal((await get(url('/ten.bin'), { headers: { 'if-match': headers.etag! } })).status, 200);
    assert.equal((await get(url('/ten.bin'), { headers: { 'if-match': '*' } })).status, 200);
    const res = await get(url('/ten.bin'), { headers: { 'if-unmodified-since': 'Thu, 01 Jan 1970 00:00:00 GMT' } });
    assert.equal(res.status, 412);
  });
});

describe('directories', () => {
  test('no trailing slash → 301 to the slash form, query kept', async () => {
    const res = await get(url('/listing?x=1&y=%20'));
    assert.equal(res.status, 301);
    assert.equal(res.headers.location, '/listing/?x=1&y=%20');
  });

  test('a protocol-relative looking path cannot turn into an open redirect', async () => {
    const res = await rawRequest(server.url, '//listing');
    assert.equal(res.status, 301);
    assert.equal(res.headers.location, '/listing/');
  });

  test('index files are tried in --index order (default index, index.html)', async () => {
    assert.equal((await get(url('/both/'))).body.toString(), 'index wins\n');
    assert.equal((await get(url('/only-html/'))).body.toString(), '<p>only html</p>\n');
  });

  test('listing: directories first, natural order, hidden names left out', async () => {
    const res = await get(url('/listing/'));
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
    const names = [...res.body.toString().matchAll(/<a href="([^"]+)">/g)].map((m) => m[1]);
    assert.deepEqual(names, ['../', './sub/', './a.txt', './b.txt', './seg_2.ts', './seg_10.ts']);
  });

  test('listing escapes names and encodes links', async () => {
    const html = (await get(url('/'))).body.toString();
    assert.ok(!html.includes('<script>'), 'raw <script> in listing');
    assert.ok(html.includes('&lt;script&gt;.ts'));
    assert.ok(html.includes('href="./%3Cscript%3E.ts"'));
    assert.ok(html.includes('a&quot;quote&quot;&amp;amp.txt'));
    assert.ok(!html.includes('.hidden.txt'));
    assert.ok(!html.includes('escape.txt'), 'a symlink leaving the root is not listed');
  });

  test('hostile but legal names are served', async () => {
    assert.equal((await get(url('/do..ts.txt'))).status, 200);
    assert.equal((await get(url('/snow%20%E2%98%83/'))).body.toString(), '<p>snowman</p>\n');
    assert.equal((await get(url('/%3Cscript%3E.ts'))).status, 200);
    assert.equal((await get(url('/inside-link.txt'))).body.toString(), 'space in name\n');
  });

  test('a file asked for as a directory is 404', async () => {
    assert.equal((await get(url('/ten.bin/'))).status, 404);
  });
});

describe('never a byte outside the root', () => {
  const attempts = [
    '/../outside/secret.txt',
    '/%2e%2e/outside/secret.txt',
    '/%2E%2E%2Foutside%2Fsecret.txt',
    '/%252e%252e/outside/secret.txt',
    '/..%5coutside%5csecret.txt',
    '/..\\outside\\secret.txt',
    '/ten.bin%00.txt',
    '/%c0%ae%c0%ae/outside/secret.txt',
    '/%ff/x',
    '/escape.txt',
    '/escape-dir/secret.txt',
    '/./ten.bin',
  ];
  for (const target of attempts) {
    test(`${target} → 400 or 404`, async () => {
      const res = await rawRequest(server.url, target);
      assert.ok(res.status === 400 || res.status === 404, `status ${res.status}`);
      assert.ok(!res.body.toString().includes('TOP SECRET'));
    });
  }

  test('a raw NUL byte in the target is refused', async () => {
    // uWS itself refuses such a request line (505); either way nothing is served.
    const res = await rawRequest(server.url, Buffer.from('/ten.bin\0.txt', 'latin1')).catch(() => null);
    assert.ok(res === null || res.status >= 400, `status ${res?.status}`);
    assert.ok(res === null || !res.body.includes('0123456789'));
  });

  test('dotfiles are hidden without --dotfiles', async () => {
    assert.equal((await get(url('/.hidden.txt'))).status, 404);
    assert.equal((await get(url('/.private/notes.txt'))).status, 404);
  });
});

describe('connections', () => {
  test('Connection: close is answered with Connection: close, so keep-alive agents never reuse the socket', async () => {
    for (let i = 0; i < 6; i++) {
      const res = await get(url('/ten.bin'), { headers: { connection: 'close' } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.connection, 'close');
    }
  });
});

describe('methods', () => {
  test('POST → 405 with Allow', async () => {
    const res = await get(url('/ten.bin'), { method: 'POST' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.allow, 'GET, HEAD, OPTIONS');
  });

  test('OPTIONS → 204 with Allow', async () => {
    const res = await get(url('/ten.bin'), { method: 'OPTIONS' });
    assert.equal(res.status, 204);
    assert.equal(res.headers.allow, 'GET, HEAD, OPTIONS');
  });

  test('errors have no CORS headers unless --cors', async () => {
    const res = await get(url('/missing'));
    assert.equal(res.status, 404);
    assert.equal(res.headers['access-control-allow-origin'], undefined);
  });
});
