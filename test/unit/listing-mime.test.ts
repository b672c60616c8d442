import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cacheControlForFile, cacheControlForGenerated } from '../../src/http/cache-policy.js';
import { formatSize, renderListing, sortEntries } from '../../src/http/listing.js';
import { contentTypeFor } from '../../src/http/mime.js';

test('media types players need', () => {
  const expected: Record<string, string> = {
    'a.m3u8': 'application/vnd.apple.mpegurl',
    'A.M3U8': 'application/vnd.apple.mpegurl',
    'a.ts': 'video/mp2t',
    'a.m4s': 'video/iso.segment',
    'a.mpd': 'application/dash+xml',
    'a.f4m': 'application/f4m',
    'a.f4f': 'video/f4f',
    'a.vtt': 'text/vtt; charset=utf-8',
    'a.mp4': 'video/mp4',
    'enc.key': 'application/octet-stream',
    'stream0Seg1-Frag3': 'x/default',
    'no.unknownext': 'x/default',
    '.hidden': 'x/default',
  };
  for (const [name, type] of Object.entries(expected)) assert.equal(contentTypeFor(name, 'x/default'), type, name);
});

test('cache policy', () => {
  assert.equal(cacheControlForFile('live.m3u8', false), 'no-cache');
  assert.equal(cacheControlForFile('m.mpd', false), 'no-cache');
  assert.match(cacheControlForFile('s.ts', false), /^public, max-age=\d+$/);
  assert.equal(cacheControlForFile('s.ts', true), 'no-store');
  assert.equal(cacheControlForGenerated(false), 'no-cache');
  assert.equal(cacheControlForGenerated(true), 'no-store');
});

test('listing order: directories first, natural order', () => {
  const entry = (name: string, isDirectory = false) => ({ name, isDirectory, size: 1, mtimeMs: 0 });
  const names = sortEntries([entry('seg_10.ts'), entry('b', true), entry('seg_2.ts'), entry('A.txt'), entry('a', true)]).map((e) => e.name);
  assert.deepEqual(names, ['a', 'b', 'A.txt', 'seg_2.ts', 'seg_10.ts']);
});

test('listing escapes names and links', () => {
  const html = renderListing('/x <y>/', [{ name: '<img src=x onerror=alert(1)>"', isDirectory: false, size: 2048, mtimeMs: 0 }]);
  assert.ok(!html.includes('<img'));
  assert.ok(html.includes('Index of /x &lt;y&gt;/'));
  assert.ok(html.includes('href="./%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E%22"'));
  assert.ok(html.includes('2.0 KiB'));
});

test('sizes', () => {
  assert.equal(formatSize(0), '0');
  assert.equal(formatSize(1023), '1023');
  assert.equal(formatSize(1536), '1.5 KiB');
  assert.equal(formatSize(5 * 1024 ** 3), '5.0 GiB');
});
