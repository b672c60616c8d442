import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../src/config/errors.js';
import type { ListenSpec } from '../../src/config/plan.js';
import { describeListen, parseStrport } from '../../src/config/strport.js';

const valid: Array<[string, ListenSpec]> = [
  ['8080', { kind: 'tcp', port: 8080 }],
  ['0', { kind: 'tcp', port: 0 }],
  ['tcp:8080', { kind: 'tcp', port: 8080 }],
  ['TCP:8080', { kind: 'tcp', port: 8080 }],
  ['tcp:port=8080', { kind: 'tcp', port: 8080 }],
  ['tcp:8080:interface=127.0.0.1', { kind: 'tcp', port: 8080, host: '127.0.0.1' }],
  ['tcp:8080:backlog=50:interface=::1'.replace('::1', '\\:\\:1'), { kind: 'tcp', port: 8080, host: '::1' }],
  ['tcp:8080:127.0.0.2:50', { kind: 'tcp', port: 8080, host: '127.0.0.2' }],
  [
    'ssl:8443:privateKey=key.pem:certKey=cert.pem',
    { kind: 'ssl', port: 8443, privateKey: 'key.pem', certKey: 'cert.pem' },
  ],
  ['ssl:8443:privateKey=both.pem', { kind: 'ssl', port: 8443, privateKey: 'both.pem', certKey: 'both.pem' }],
  [
    'ssl:443:privateKey=k:certKey=c:dhParameters=dh.pem:interface=10.0.0.1:sslmethod=TLSv1_2_METHOD',
    { kind: 'ssl', port: 443, host: '10.0.0.1', privateKey: 'k', certKey: 'c', dhParameters: 'dh.pem' },
  ],
  ['ssl:8443', { kind: 'ssl', port: 8443, privateKey: 'server.pem', certKey: 'server.pem' }],
  ['ssl:8443:k.pem:c.pem', { kind: 'ssl', port: 8443, privateKey: 'k.pem', certKey: 'c.pem' }],
  ['unix:/run/media.sock', { kind: 'unix', path: '/run/media.sock', mode: 0o666 }],
  ['unix:/run/media.sock:600', { kind: 'unix', path: '/run/media.sock', mode: 0o600 }],
  ['unix:address=/run/m.sock:mode=660:lockfile=1', { kind: 'unix', path: '/run/m.sock', mode: 0o660 }],
];
for (const [description, expected] of valid) {
  test(`parses ${description}`, () => {
    assert.deepEqual(parseStrport(description, '-p'), expected);
  });
}

const invalid: Array<[string, RegExp]> = [
  ['', /empty listen description/],
  ['http:80', /unknown listen type "http"/],
  ['tcp:', /missing port number/],
  ['tcp:70000', /port "70000" is not a number from 0 to 65535/],
  ['tcp:-1', /port "-1"/],
  ['tcp:80:colour=red', /unknown parameter "colour" \(known: port, interface, backlog\)/],
  ['tcp:80:port=81', /"port" given both by position and by name/],
  ['tcp:80:interface=a:interface=b', /"interface" given twice/],
  ['tcp:80:backlog=x', /backlog "x" is not a number/],
  ['tcp:1:2:3:4', /too many positional values/],
  ['tcp:interface=x:80', /positional value "80" after keyword arguments/],
  ['ssl:443:privateKey=', /privateKey is empty/],
  ['ssl:443:privateKey=k:extraCertChain=c', /extraCertChain is not supported/],
  ['unix:', /unix needs a socket path/],
  ['unix:/x:mode=rw', /mode "rw" is not an octal permission/],
  ['unix:/x:lockfile=yes', /lockfile "yes" is not 0 or 1/],
  ['tcp:80\\', /trailing backslash/],
];
for (const [description, message] of invalid) {
  test(`rejects "${description}"`, () => {
    assert.throws(
      () => parseStrport(description, '--port (option 3)'),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.where, '--port (option 3)');
        assert.match(error.message, /^--port \(option 3\): /);
        assert.match(error.message, message);
        assert.match(error.message, /expected e\.g\. 8080/);
        return true;
      },
    );
  });
}

test('describeListen gives the URL to type', () => {
  assert.equal(describeListen({ kind: 'tcp', port: 80 }), 'http://[::]:80/', 'dual-stack wildcard');
  assert.equal(describeListen({ kind: 'tcp', port: 80, host: '::1' }), 'http://[::1]:80/');
  assert.equal(describeListen({ kind: 'ssl', port: 443, host: 'a', privateKey: 'k', certKey: 'k' }), 'https://a:443/');
  assert.equal(describeListen({ kind: 'unix', path: '/s', mode: 0o600 }), 'unix:/s');
});
