import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keyFromAddress, keyFromHeader } from '../../../src/shaping/client-key.js';

const v4 = (a: number, b: number, c: number, d: number) => new Uint8Array([a, b, c, d]);
const v6 = (hex: string) => Uint8Array.from(Buffer.from(hex.replace(/:/g, ''), 'hex'));

test('an IPv4-mapped IPv6 address is the IPv4 client', () => {
  assert.deepEqual(keyFromAddress(v6('0000:0000:0000:0000:0000:ffff:7f00:0002')), keyFromAddress(v4(127, 0, 0, 2)));
});

test('IPv4 fingerprints are exact and distinct', () => {
  const a = keyFromAddress(v4(127, 0, 0, 2));
  const b = keyFromAddress(v4(127, 0, 0, 3));
  assert.notEqual(a.fingerprint, b.fingerprint);
  assert.ok(a.fingerprint > 0n && a.fingerprint < 1n << 47n);
});

test('IPv6 prefix grouping puts a /64 in one bucket', () => {
  const one = v6('20010db8000000010000000000000001');
  const two = v6('20010db80000000100000000000000ff');
  const other = v6('20010db8000000020000000000000001');
  assert.notDeepEqual(keyFromAddress(one), keyFromAddress(two));
  assert.deepEqual(keyFromAddress(one, 64), keyFromAddress(two, 64));
  assert.notDeepEqual(keyFromAddress(one, 64), keyFromAddress(other, 64));
  assert.deepEqual(keyFromAddress(one, 0), keyFromAddress(other, 0));
});

test('header keys: equal values match, distinct values differ, never equal to an address key', () => {
  assert.deepEqual(keyFromHeader('viewer-1'), keyFromHeader('viewer-1'));
  assert.notEqual(keyFromHeader('viewer-1').fingerprint, keyFromHeader('viewer-2').fingerprint);
  assert.notEqual(keyFromHeader('127.0.0.2').fingerprint, keyFromAddress(v4(127, 0, 0, 2)).fingerprint);
});
