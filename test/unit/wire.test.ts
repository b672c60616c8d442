import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeHeaders, statusBytes } from '../../src/respond/wire.js';

const text = (bytes: string | Uint8Array): string => (typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString());

test('headers are encoded as one block that uWS writes verbatim', () => {
  const [block, ...more] = encodeHeaders([
    ['Content-Type', 'video/mp2t'],
    ['ETag', '"1-2"'],
  ]);
  assert.equal(more.length, 0);
  // uWS writes `name: value\r\n`: this becomes two well-formed header lines.
  assert.equal(`${text(block![0])}: ${text(block![1])}\r\n`, 'Content-Type: video/mp2t\r\nETag: "1-2"\r\n');
  assert.deepEqual(encodeHeaders([]), []);
});

test('a line break inside a header is refused', () => {
  assert.throws(() => encodeHeaders([['X-Evil', 'a\r\nSet-Cookie: x']]), /line break in header "X-Evil"/);
});

test('status lines', () => {
  assert.equal(text(statusBytes(206)), '206 Partial Content');
});
