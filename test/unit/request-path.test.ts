import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeRequestPath, encodePath, isHiddenSegment } from '../../src/http/request-path.js';

const ok: Array<[string, string[], boolean]> = [
  ['/', [], true],
  ['/a/b.ts', ['a', 'b.ts'], false],
  ['/a/b/', ['a', 'b'], true],
  ['//a///b', ['a', 'b'], false],
  ['/some%20thing.txt', ['some thing.txt'], false],
  ['/snow%20%E2%98%83/', ['snow ☃'], true],
  ['/do..ts.txt', ['do..ts.txt'], false],
  ['/%252e%252e/x', ['%2e%2e', 'x'], false],
  ['/%3Cscript%3E.ts', ['<script>.ts'], false],
];
for (const [raw, segments, trailingSlash] of ok) {
  test(`decodes ${raw}`, () => {
    assert.deepEqual(decodeRequestPath(raw), { ok: true, segments, trailingSlash });
  });
}

const refused = [
  '',
  'a/b',
  '/../x',
  '/a/../../x',
  '/%2e%2e/x',
  '/%2E%2e/x',
  '/./x',
  '/%2e/x',
  '/a%2Fb',
  '/a%5Cb',
  '/a\\b',
  '/a%00b',
  '/%ff',
  '/%c0%ae%c0%ae/x',
  '/%E2%82',
  '/%zz',
  `/${'a'.repeat(9000)}`,
];
for (const raw of refused) {
  test(`refuses ${raw.slice(0, 30)}`, () => {
    const decoded = decodeRequestPath(raw);
    assert.equal(decoded.ok, false);
    assert.equal(decoded.ok === false && decoded.status, 400);
  });
}

test('hidden segments', () => {
  assert.equal(isHiddenSegment('.git'), true);
  assert.equal(isHiddenSegment('a.b'), false);
});

test('encodePath re-encodes and never starts with //', () => {
  assert.equal(encodePath([], true), '/');
  assert.equal(encodePath(['evil.com'], true), '/evil.com/');
  assert.equal(encodePath(['snow ☃', 'a?b#c'], false), '/snow%20%E2%98%83/a%3Fb%23c');
});
