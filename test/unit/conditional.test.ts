import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  evaluatePreconditions,
  ifRangeAllowsRange,
  parseHttpDateSec,
  type ConditionalHeaders,
  type PreconditionVerdict,
} from '../../src/http/conditional.js';

const validators = { etag: '"a-1"', lastModifiedSec: 1_000_000 };
const at = (sec: number): string => new Date(sec * 1000).toUTCString();
const none: ConditionalHeaders = { ifMatch: '', ifNoneMatch: '', ifModifiedSince: '', ifUnmodifiedSince: '' };

const table: Array<[name: string, headers: Partial<ConditionalHeaders>, expected: PreconditionVerdict]> = [
  ['no conditions', {}, 'proceed'],
  ['If-Match current', { ifMatch: '"a-1"' }, 'proceed'],
  ['If-Match in a list', { ifMatch: '"x", "a-1"' }, 'proceed'],
  ['If-Match *', { ifMatch: '*' }, 'proceed'],
  ['If-Match other', { ifMatch: '"x"' }, 'precondition-failed'],
  ['If-Match weak never matches', { ifMatch: 'W/"a-1"' }, 'precondition-failed'],
  ['If-Unmodified-Since later', { ifUnmodifiedSince: at(1_000_001) }, 'proceed'],
  ['If-Unmodified-Since same second', { ifUnmodifiedSince: at(1_000_000) }, 'proceed'],
  ['If-Unmodified-Since earlier', { ifUnmodifiedSince: at(999_999) }, 'precondition-failed'],
  ['If-Unmodified-Since ignored under If-Match', { ifMatch: '"a-1"', ifUnmodifiedSince: at(1) }, 'proceed'],
  ['If-Unmodified-Since invalid date ignored', { ifUnmodifiedSince: 'yesterday' }, 'proceed'],
  ['If-None-Match current', { ifNoneMatch: '"a-1"' }, 'not-modified'],
  ['If-None-Match weak compares weakly', { ifNoneMatch: 'W/"a-1"' }, 'not-modified'],
  ['If-None-Match *', { ifNoneMatch: '*' }, 'not-modified'],
  ['If-None-Match unquoted tag', { ifNoneMatch: 'a-1' }, 'not-modified'],
  ['If-None-Match other', { ifNoneMatch: '"x"' }, 'proceed'],
  ['If-None-Match wins over If-Modified-Since', { ifNoneMatch: '"x"', ifModifiedSince: at(2_000_000) }, 'proceed'],
  ['If-Modified-Since same second', { ifModifiedSince: at(1_000_000) }, 'not-modified'],
  ['If-Modified-Since later', { ifModifiedSince: at(1_000_001) }, 'not-modified'],
  ['If-Modified-Since earlier', { ifModifiedSince: at(999_999) }, 'proceed'],
  ['If-Modified-Since garbage', { ifModifiedSince: '0' }, 'proceed'],
  ['412 comes before 304', { ifMatch: '"x"', ifNoneMatch: '"a-1"' }, 'precondition-failed'],
];

for (const [name, headers, expected] of table) {
  test(name, () => {
    assert.equal(evaluatePreconditions({ ...none, ...headers }, validators, true), expected);
  });
}

test('--no-cache mode turns every 304 into a full response', () => {
  assert.equal(evaluatePreconditions({ ...none, ifNoneMatch: '"a-1"' }, validators, false), 'proceed');
  assert.equal(evaluatePreconditions({ ...none, ifModifiedSince: at(2_000_000) }, validators, false), 'proceed');
  assert.equal(evaluatePreconditions({ ...none, ifMatch: '"x"' }, validators, false), 'precondition-failed');
});

test('If-Range: strong current tag or exact date allows the range', () => {
  assert.equal(ifRangeAllowsRange('', validators), true);
  assert.equal(ifRangeAllowsRange('"a-1"', validators), true);
  assert.equal(ifRangeAllowsRange('W/"a-1"', validators), false);
  assert.equal(ifRangeAllowsRange('"b-2"', validators), false);
  assert.equal(ifRangeAllowsRange(at(1_000_000), validators), true);
  assert.equal(ifRangeAllowsRange(at(1_000_001), validators), false);
  assert.equal(ifRangeAllowsRange('garbage', validators), false);
});

test('HTTP dates in all three forms', () => {
  assert.equal(parseHttpDateSec('Sun, 06 Nov 1994 08:49:37 GMT'), 784111777);
  assert.equal(parseHttpDateSec('Sunday, 06-Nov-94 08:49:37 GMT'), 784111777);
  assert.equal(parseHttpDateSec('Sun Nov  6 08:49:37 1994'), 784111777);
  assert.equal(parseHttpDateSec('1'), null);
  assert.equal(parseHttpDateSec(''), null);
});
