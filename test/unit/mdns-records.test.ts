import assert from 'node:assert/strict';
import type { NetworkInterfaceInfo } from 'node:os';
import { test } from 'node:test';
import { resolveArgv, type GivenOption } from '../../src/config/argv-plan.js';
import { draftFromDocument } from '../../src/config/config-file.js';
import { planToDocument } from '../../src/config/config-print.js';
import { buildPlan, type BuildEnv } from '../../src/config/draft.js';
import { ConfigError } from '../../src/config/errors.js';
import { advertisementsOf, fillName, txtRecord, usableInterfaces } from '../../src/coordinator/mdns-records.js';

const env: BuildEnv = { cwd: '/srv', defaultWorkers: 1, statPath: () => 'directory' };
const opts = (...pairs: Array<[string, string | boolean]>): GivenOption[] => pairs.map(([name, value]) => ({ name, value }));

test('names: %s the computer, %d the port, %% a percent sign; cut to a DNS label', () => {
  assert.equal(fillName('Mediacast-Webserver (%s on port %d)', 'studio', 8080), 'Mediacast-Webserver (studio on port 8080)');
  assert.equal(fillName('100%% %s', 'x', 1), '100% x');
  assert.equal(Buffer.byteLength(fillName('☃'.repeat(40), 'x', 1)), 57, 'never splits a character, and leaves room for " (2)"');
});

test('the command line: off unless --bonjour; - is the default name; per server in argv order; --no-bonjour', () => {
  assert.deepEqual(resolveArgv([], env).servers[0]!.bonjour, []);
  const plan = resolveArgv(opts(['--bonjour', '-'], ['--bonjour', 'Lab on %d'], ['--host', '8081'], ['--bonjour', 'Other'], ['--bonjour-interface', 'eth0']), env);
  assert.deepEqual(plan.servers[0]!.bonjour, ['Mediacast-Webserver (%s on port %d)', 'Lab on %d']);
  assert.deepEqual(plan.servers[1]!.bonjour, ['Other']);
  assert.deepEqual(plan.bonjourInterfaces, ['eth0']);
  assert.deepEqual(resolveArgv(opts(['--bonjour', '-'], ['--no-bonjour', true]), env).servers[0]!.bonjour, []);
  for (const [value, message] of [
    ['', /empty name/],
    ['%x', /only %s \(the computer name\), %d \(the port\) and %% may appear/],
    ['%d %d', /each once/],
  ] as const) {
    assert.throws(() => resolveArgv(opts(['--bonjour', value]), env), (e: unknown) => e instanceof ConfigError && message.test(e.message));
  }
  assert.throws(() => resolveArgv(opts(['--bonjour-interface', 'eth 0']), env), /is not an interface name/);
});

test('the config file and --print-config: true, a name or a list', () => {
  const draft = draftFromDocument({ bonjourInterfaces: ['eth1'], servers: [{ bonjour: true }, { listen: 81, bonjour: ['A %d', 'B'] }, { listen: 82, bonjour: false }] }, 'c.json', '/');
  const plan = buildPlan(draft, env);
  assert.deepEqual(plan.servers.map((s) => s.bonjour), [['Mediacast-Webserver (%s on port %d)'], ['A %d', 'B'], []]);
  const again = buildPlan(draftFromDocument(planToDocument(plan), 'p.json', '/'), env);
  assert.deepEqual(again.servers.map((s) => s.bonjour), plan.servers.map((s) => s.bonjour));
  assert.deepEqual(again.bonjourInterfaces, ['eth1']);
});

test('services and TXT: http or https, the port, the limits in force; nothing for unix sockets or loopback listeners', () => {
  const plan = resolveArgv(opts(['--port', 'tcp:8080'], ['--shape', '1MB,200kB'], ['--bonjour', '-'], ['--vhost', 'one.local'], ['--vhost', 'two.local']), env);
  const [advert] = advertisementsOf(plan.servers[0]!, 'studio', '1.2.3');
  assert.deepEqual(advert, {
    name: 'Mediacast-Webserver (studio on port 8080)',
    type: 'http',
    port: 8080,
    address: null,
    txt: { txtvers: '1', path: '/', version: 'mediacast/1.2.3', vhosts: 'one.local,two.local', rate: '1000000', 'client-rate': '200000', burst: '1000000', 'client-burst': '200000', 'shape-by': 'ip' },
  });
  assert.equal(txtRecord(resolveArgv([], env).servers[0]!, '1').rate, '0', 'no limit');
  const ssl = resolveArgv(opts(['--port', 'ssl:8443:privateKey=k.pem:interface=10.0.0.5'], ['--bonjour', 'S']), env).servers[0]!;
  assert.deepEqual(advertisementsOf(ssl, 'x', '1').map((a) => [a.type, a.port, a.address]), [['https', 8443, '10.0.0.5']]);
  assert.deepEqual(advertisementsOf(resolveArgv(opts(['--port', 'tcp:8080:interface=127.0.0.1'], ['--bonjour', '-']), env).servers[0]!, 'x', '1'), []);
  assert.deepEqual(advertisementsOf(resolveArgv(opts(['--port', 'unix:/tmp/m.sock'], ['--bonjour', '-']), env).servers[0]!, 'x', '1'), []);
});

test('interfaces: loopback, link-local-only and IPv4-mapped addresses are never advertised', () => {
  const info = (address: string, internal = false): NetworkInterfaceInfo =>
    address.includes(':')
      ? { address, internal, family: 'IPv6', netmask: '', mac: '', cidr: null, scopeid: 0 }
      : { address, internal, family: 'IPv4', netmask: '', mac: '', cidr: null };
  const interfaces = {
    lo: [info('127.0.0.1', true), info('::1', true)],
    eth0: [info('192.168.1.20'), info('fe80::1'), info('2001:db8::20')],
    veth1: [info('fe80::2')],
    docker0: [info('::ffff:10.1.1.1')],
  };
  assert.deepEqual(usableInterfaces(interfaces, []), [{ name: 'eth0', addresses: ['192.168.1.20', '2001:db8::20'] }]);
  assert.deepEqual(usableInterfaces(interfaces, ['veth1']), []);
  assert.deepEqual(usableInterfaces({ wlan0: [info('169.254.3.4')] }, []), [], 'IPv4 link-local too');
  for (const host of ['::ffff:10.0.0.5', 'fe80::1', '169.254.1.1', 'LOCALHOST']) {
    const plan = resolveArgv(opts(['--port', `tcp:8080:interface=${host.replace(/:/g, '\\:')}`], ['--bonjour', '-']), env);
    assert.deepEqual(advertisementsOf(plan.servers[0]!, 'x', '1'), [], `a listener on ${host} is not advertised`);
  }
});
