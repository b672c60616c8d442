/** Fault rules: what the API accepts, how rules that drew one request combine, and how workers match them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { combineFaults, FaultError, parseFaultSpec, type FaultRule } from '../../src/control/fault-rules.js';
import { keyFromAddress, keyFromHeader } from '../../src/shaping/client-key.js';
import { FaultMatcher } from '../../src/worker/fault-matcher.js';
import { compileGlob } from '../../src/control/path-glob.js';
import { canonicalClientName } from '../../src/control/client-names.js';

const rule = (fields: Partial<FaultRule>): FaultRule => ({ ...parseFaultSpec({ status: 503 }), id: 1, server: 0, ...fields });

test('fault specs: sizes in --shape units, a share, every field checked and named', () => {
  const spec = parseFaultSpec({ path: '/v2/*.ts', client: '127.0.0.2', stallAfter: '64kB', stallMs: 3000, cutAfter: 1_000_000, share: 0.25 });
  assert.deepEqual(spec, { path: '/v2/*.ts', client: '127.0.0.2', share: 0.25, ttfbMs: 0, stallAfter: 64_000, stallMs: 3000, cutAfter: 1_000_000, status: null, profile: null });
  assert.throws(() => parseFaultSpec([]), /expected an object/);
  assert.throws(() => parseFaultSpec({ ttfbMs: 1.5 }), /ttfbMs: expected whole milliseconds/);
  assert.throws(() => parseFaultSpec({ ttfbMs: 4_000_000 }), /ttfbMs: expected whole milliseconds from 0 to 3600000/);
  assert.throws(() => parseFaultSpec({ stallMs: 10 }), /stallAfter and stallMs go together/);
  assert.throws(() => parseFaultSpec({ status: 302 }), /status: expected an error status/);
  assert.throws(() => parseFaultSpec({ path: '', status: 503 }), /path: expected a pattern of 1 to 256 characters/);
  assert.throws(() => parseFaultSpec({ path: '/v[12]/*.ts', status: 503 }), /path: "\[" is not part of a path pattern/);
  assert.throws(() => parseFaultSpec({ cutAfter: '5kB/s' }), FaultError);
});

test('combined: delays add up, the earliest cut wins, the first stall and status count; nothing drawn is no plan', () => {
  assert.equal(combineFaults([]), null);
  const plan = combineFaults([
    rule({ ttfbMs: 100, status: null, cutAfter: 5000 }),
    rule({ ttfbMs: 250, status: 404, stallAfter: 10, stallMs: 20 }),
    rule({ status: 503, cutAfter: 1000, stallAfter: 99, stallMs: 99 }),
  ]);
  assert.deepEqual(plan, { ttfbMs: 350, stallAfter: 10, stallMs: 20, cutAfter: 1000, status: 404 });
});

test('matching: a glob over the path (the last segment without a slash), the client by address or id, a share drawn', () => {
  const draws = [0.1, 0.9];
  const matcher = new FaultMatcher(64, () => draws.shift()!);
  assert.equal(matcher.empty, true);
  matcher.set([
    rule({ id: 1, path: '*.m3u8', status: 503 }),
    rule({ id: 2, path: '/v2/**', client: '2001:db8::1', status: 404 }),
    rule({ id: 3, client: 'id:viewer-7', status: 410, share: 0.5 }),
  ]);
  const v4 = () => keyFromAddress(Uint8Array.of(10, 0, 0, 1));
  assert.equal(matcher.plan('/live/v1/index.m3u8', v4)?.status, 503);
  assert.equal(matcher.plan('/v2/seg.ts', v4), null);
  // The same /64 as the rule's address: one client, as its bucket is.
  const sameSlash64 = () => keyFromAddress(Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 0x99]), 64);
  assert.equal(matcher.plan('/v2/a/seg.ts', sameSlash64)?.status, 404);
  const viewer = () => keyFromHeader('viewer-7');
  assert.equal(matcher.plan('/x', viewer)?.status, 410, 'drawn at 0.1 of a 0.5 share');
  assert.equal(matcher.plan('/x', viewer), null, 'not drawn at 0.9');
});

test('path patterns: *, ** and ? as globs, the last segment without a slash; a hostile path costs no more than its length', () => {
  const cases: Array<[string, string, boolean]> = [
    ['/v2/*.ts', '/v2/seg_1.ts', true],
    ['/v2/*.ts', '/v2/a/seg_1.ts', false],
    ['/live/**', '/live/a/b/c.ts', true],
    ['/live/**/c.ts', '/live/c.ts', true],
    ['/live/**/c.ts', '/live/a/b/c.ts', true],
    ['/live/**/c.ts', '/live/a/b/d.ts', false],
    ['*.m3u8', '/vod/v1/index.m3u8', true],
    ['*.m3u8', '/vod/v1/index.m3u8/x', false],
    ['seg_00?.ts', '/a/seg_007.ts', true],
    ['seg_00?.ts', '/a/seg_0070.ts', false],
    ['/a*b', '/ab', true],
    ['/live/**', '/live', true],
    ['/a**/b', '/ab', false],
    ['/a**/b', '/ax/b', true],
    ['(a+)+b', '/x/(a+)+b', true],
  ];
  for (const [pattern, path, expected] of cases) assert.equal(compileGlob(pattern).matches(path), expected, `${pattern} on ${path}`);
  const started = performance.now();
  assert.equal(compileGlob('*_*_*_*_*_*.ts').matches(`/${'_'.repeat(4000)}`), false);
  assert.ok(performance.now() - started < 500, `${(performance.now() - started).toFixed(0)} ms`);
});

test('client names have one spelling: a mapped IPv4 address as IPv4, IPv6 compressed, ids as given', () => {
  assert.equal(canonicalClientName('::ffff:127.0.0.2'), '127.0.0.2');
  assert.equal(canonicalClientName('2001:DB8:0:0::1'), '2001:db8::1');
  assert.equal(canonicalClientName('id:Viewer-7'), 'id:Viewer-7');
  assert.throws(() => canonicalClientName('127.1'), /neither an IP address/);
});
