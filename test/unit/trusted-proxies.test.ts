import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forwardedClient, isTrusted, mergeTrust, parseTrustEntry, TRUST_NOBODY } from '../../src/http/trusted-proxies.js';
import { ClientIdQuota } from '../../src/shaping/client-id-quota.js';
import { addressPrefix, keyFromAddress, keyFromHeader } from '../../src/shaping/client-key.js';

const v4 = (...bytes: number[]) => Uint8Array.from(bytes);
const mapped = (a: number, b: number, c: number, d: number) => Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d]);
const v6 = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'));
const trust = (...entries: string[]) => mergeTrust(entries.map((e) => parseTrustEntry(e)!));

test('trust entries: addresses, CIDRs, keywords; malformed ones are refused', () => {
  assert.equal(parseTrustEntry('10.0.0.0/33'), null);
  assert.equal(parseTrustEntry('nowhere'), null);
  assert.equal(parseTrustEntry('1.2.3'), null);
  const list = trust('10.0.0.0/8', '192.168.1.7', 'fd00::/8', 'loopback');
  assert.ok(isTrusted(list, v4(10, 200, 0, 1)));
  assert.ok(!isTrusted(list, v4(11, 0, 0, 1)));
  assert.ok(isTrusted(list, v4(192, 168, 1, 7)));
  assert.ok(!isTrusted(list, v4(192, 168, 1, 8)));
  assert.ok(isTrusted(list, mapped(10, 1, 2, 3)), 'IPv4-mapped IPv6 counts as IPv4');
  assert.ok(isTrusted(list, v6('fd000000000000000000000000000001')));
  assert.ok(isTrusted(list, v6('00000000000000000000000000000001')), '::1 is loopback');
  assert.ok(isTrusted(list, v4(127, 9, 9, 9)));
  assert.ok(!isTrusted(list, new Uint8Array(0)), 'unix peers only with "unix"');
  assert.ok(isTrusted(trust('unix'), new Uint8Array(0)));
  assert.ok(isTrusted(trust('::ffff:10.0.0.0/104'), v4(10, 3, 3, 3)), 'a mapped CIDR matches IPv4 peers');
  assert.ok(!isTrusted(TRUST_NOBODY, v4(127, 0, 0, 1)));
});

test('X-Forwarded-For: only from a trusted peer, walked from the right past trusted hops', () => {
  const list = trust('10.0.0.0/8');
  const proxy = v4(10, 0, 0, 1);
  assert.deepEqual(forwardedClient(list, v4(1, 2, 3, 4), '9.9.9.9'), v4(1, 2, 3, 4), 'an untrusted peer speaks for itself');
  assert.deepEqual(forwardedClient(list, proxy, ''), proxy);
  assert.deepEqual(forwardedClient(list, proxy, '203.0.113.5'), v4(203, 0, 113, 5));
  assert.deepEqual(forwardedClient(list, proxy, '6.6.6.6, 203.0.113.5, 10.1.1.1'), v4(203, 0, 113, 5), 'a client cannot prepend its way in');
  assert.deepEqual(forwardedClient(list, proxy, '10.1.1.1, 10.2.2.2'), v4(10, 1, 1, 1), 'all trusted: the leftmost');
  assert.deepEqual(forwardedClient(list, proxy, 'garbage, 10.2.2.2'), v4(10, 2, 2, 2), 'a malformed hop ends the walk');
  assert.deepEqual(forwardedClient(list, proxy, 'garbage'), proxy);
  assert.deepEqual(forwardedClient(list, proxy, '[2001:db8::1]:443'), v6('20010db8000000000000000000000001'));
  assert.deepEqual(forwardedClient(list, proxy, '198.51.100.7:5000'), v4(198, 51, 100, 7));
  assert.deepEqual(forwardedClient(list, proxy, '::ffff:198.51.100.7'), v4(198, 51, 100, 7));
  assert.deepEqual(forwardedClient(list, proxy, '1.2.3.04'), proxy, 'not a plain dotted quad');
});

test('client ids per address are capped; ids already held are always accepted', () => {
  const quota = new ClientIdQuota(2);
  assert.ok(quota.acquire('10.0.0.1', 'a'));
  assert.ok(quota.acquire('10.0.0.1', 'b'));
  assert.ok(!quota.acquire('10.0.0.1', 'c'));
  assert.ok(quota.acquire('10.0.0.1', 'a'), 'a second response of a held id');
  assert.ok(quota.acquire('10.0.0.2', 'c'), 'another address has its own quota');
  quota.release('10.0.0.1', 'b');
  assert.ok(quota.acquire('10.0.0.1', 'c'));
  quota.release('10.0.0.1', 'a');
  assert.equal(quota.held('10.0.0.1'), 2, 'a is still held by its other response');
  quota.release('10.0.0.1', 'a');
  quota.release('10.0.0.1', 'c');
  assert.equal(quota.held('10.0.0.1'), 0);
});

test('address prefixes: IPv4 whole, IPv4-mapped as IPv4, IPv6 masked to the prefix', () => {
  assert.deepEqual(addressPrefix(v4(10, 1, 2, 3), 64), v4(10, 1, 2, 3));
  assert.deepEqual(addressPrefix(mapped(10, 1, 2, 3), 64), v4(10, 1, 2, 3));
  assert.deepEqual(addressPrefix(v6('20010db8aaaabbbbccccddddeeeeffff'), 64), v6('20010db8aaaabbbb0000000000000000'));
  assert.deepEqual(addressPrefix(v6('20010db8aaaabbbbccccddddeeeeffff'), 60), v6('20010db8aaaabbb00000000000000000'));
  assert.deepEqual(addressPrefix(v6('20010db8aaaabbbbccccddddeeeeffff'), 128), v6('20010db8aaaabbbbccccddddeeeeffff'));
});

test('key hashes depend on the per-process seed; identities and IPv4 fingerprints do not', () => {
  const a = keyFromAddress(v4(127, 0, 0, 2), 128, 1);
  const b = keyFromAddress(v4(127, 0, 0, 2), 128, 2);
  assert.notEqual(a.home, b.home);
  assert.equal(a.fingerprint, b.fingerprint);
  assert.equal(a.low, b.low);
  assert.notEqual(keyFromHeader('viewer', 1).home, keyFromHeader('viewer', 2).home);
  assert.notEqual(keyFromHeader('viewer', 1).fingerprint, keyFromHeader('viewer', 2).fingerprint);
  assert.deepEqual(keyFromHeader('viewer', 7), keyFromHeader('viewer', 7));
  assert.deepEqual(keyFromAddress(new Uint8Array(0)), keyFromAddress(new ArrayBuffer(0)), 'unix-socket peers: one local key');
});
