import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeField, formatCombined, formatLogTime } from '../../src/http/access-log-line.js';
import { hostName } from '../../src/http/host-header.js';
import { formatAddress } from '../../src/http/ip-text.js';
import { mayServe, parsePasswd } from '../../src/files/user-homes.js';
import { applyAliases } from '../../src/handlers/static/site-runtime.js';

test('aliases rewrite whole leading segments, in order; an empty target is the root', () => {
  const aliases = [
    { from: ['media'], to: ['videos'] },
    { from: ['live', 'now'], to: [] },
  ];
  assert.deepEqual(applyAliases(aliases, ['media', 'a.ts']), ['videos', 'a.ts']);
  assert.deepEqual(applyAliases(aliases, ['media']), ['videos']);
  assert.deepEqual(applyAliases(aliases, ['mediax', 'a.ts']), ['mediax', 'a.ts']);
  assert.deepEqual(applyAliases(aliases, ['live', 'now', 'x.m3u8']), ['x.m3u8']);
  assert.deepEqual(applyAliases(aliases, ['live']), ['live']);
  assert.deepEqual(applyAliases([{ from: ['a'], to: ['b'] }, { from: ['b'], to: ['c'] }], ['a']), ['c']);
});

test('Host header to virtual host name', () => {
  assert.equal(hostName('One.Local:8080'), 'one.local');
  assert.equal(hostName('one.local.'), 'one.local');
  assert.equal(hostName('[::1]:8080'), '[::1]');
  assert.equal(hostName(''), '');
});

test('peer addresses as text', () => {
  assert.equal(formatAddress(new Uint8Array([127, 0, 0, 2])), '127.0.0.2');
  assert.equal(formatAddress(Uint8Array.from(Buffer.from('00000000000000000000ffff7f000005', 'hex'))), '127.0.0.5');
  assert.equal(formatAddress(Uint8Array.from(Buffer.from('00000000000000000000000000000001', 'hex'))), '::1');
  assert.equal(formatAddress(Uint8Array.from(Buffer.from('20010db8000000000001000000000001', 'hex'))), '2001:db8::1:0:0:1');
  assert.equal(formatAddress(Uint8Array.from(Buffer.from('20010db8000100020003000400050006', 'hex'))), '2001:db8:1:2:3:4:5:6');
});

test('combined log lines', () => {
  const time = Date.UTC(2026, 10, 26, 12, 0, 5);
  const line = formatCombined({
    remote: '127.0.0.2',
    method: 'GET',
    target: '/a b"c?x=1',
    status: 206,
    bytes: 1000,
    referer: '',
    userAgent: 'curl/8 "quoted"\\',
    time,
  });
  assert.equal(line, `127.0.0.2 - - [${formatLogTime(time)}] "GET /a b\\"c?x=1 HTTP/1.1" 206 1000 "-" "curl/8 \\"quoted\\"\\\\"`);
  assert.match(formatLogTime(time), /^\d\d\/Nov\/2026:\d\d:\d\d:05 [+-]\d{4}$/);
  assert.equal(escapeField('a\nb\x01'), 'a\\x0ab\\x01');
  // Bytes at and above 0x7f, C1 controls included, never reach the log raw.
  assert.equal(escapeField('\u0085\u009b \u00e9\x7f'), '\\xc2\\x85\\xc2\\x9b \\xc3\\xa9\\x7f');
  assert.equal(escapeField('\x85\x9b\xe9', 'latin1'), '\\x85\\x9b\\xe9', 'header values hold one byte per character');
  assert.equal(escapeField('/plain/path?q=1'), '/plain/path?q=1');
  assert.match(formatCombined({ remote: '::1', method: 'HEAD', target: '/', status: 304, bytes: 0, referer: 'http://x/', userAgent: 'ua', time }), / 304 - "http:\/\/x\/" "ua"$/);
});

test('passwd parsing', () => {
  const accounts = parsePasswd(
    'root:x:0:0:root:/root:/bin/bash\n# comment\nalice:x:1000:1000:Alice,,,:/home/alice:/bin/sh\nbroken:x\nnohome:x:1:1::relative:/bin/sh\nbaduid:x:x1:1::/h:/bin/sh\n',
  );
  assert.deepEqual([...accounts], [
    ['root', { home: '/root', uid: 0 }],
    ['alice', { home: '/home/alice', uid: 1000 }],
  ]);
});

test('which accounts may have their public_html served', () => {
  assert.equal(mayServe({ home: '/root', uid: 0 }, 0), false, 'never root, whatever the minimum');
  assert.equal(mayServe({ home: '/', uid: 33 }, 1000), false);
  assert.equal(mayServe({ home: '/home/a', uid: 1000 }, 1000), true);
  assert.equal(mayServe({ home: '/home/a', uid: 1000 }, 1001), false);
  assert.equal(mayServe({ home: '/nonexistent', uid: 65534 }, 1000), false, 'nobody');
  assert.equal(mayServe({ home: '/home/a', uid: 500 }, 500), true);
});
