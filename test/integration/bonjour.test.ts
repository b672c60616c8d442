/**
 * Bonjour advertisement seen from another host: the server runs in one network namespace, a
 * browser nobody here wrote (multicast-dns, and avahi-browse where avahi is installed) in another,
 * joined by a veth pair. mDNS never goes
 * anywhere else. Skipped, with the reason, without root or iproute2.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { avahiMissing, avahiUnescape, startAvahi } from '../helpers/avahi.js';
import { createPair, unavailable, type NamespacePair } from '../helpers/netns.js';
import { waitFor } from '../helpers/proc.js';
import { DEMO_MEDIA, startCli, type ServerProcess } from '../helpers/server-process.js';

const skip = unavailable();
const BROWSER = fileURLToPath(new URL('../helpers/mdns-browser.js', import.meta.url));

interface Heard {
  readonly type: string;
  readonly name: string;
  readonly ttl: number;
  readonly data: unknown;
}

/** The browser in the client namespace, and everything it has heard. */
class Browser {
  readonly heard: Heard[] = [];
  readonly #child: ChildProcess;

  constructor(pair: NamespacePair, seconds: number) {
    this.#child = spawn('ip', ['netns', 'exec', pair.client, process.execPath, BROWSER, pair.clientAddress, String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let rest = '';
    this.#child.stdout!.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop()!;
      for (const line of lines) if (line !== '') this.heard.push(JSON.parse(line) as Heard);
    });
  }

  /** The instance names announced (TTL > 0) and not said goodbye to since, for a type. */
  live(type = '_http._tcp.local'): Set<string> {
    const names = new Set<string>();
    for (const record of this.heard.filter((r) => r.type === 'PTR' && r.name === type)) {
      const instance = String(record.data).replace(`.${type}`, '');
      if (record.ttl > 0) names.add(instance);
      else names.delete(instance);
    }
    return names;
  }

  record(type: string, name: string): Heard | undefined {
    return this.heard.filter((r) => r.type === type && r.name === name && r.ttl > 0).at(-1);
  }

  stop(): void {
    this.#child.kill();
  }
}

describe('bonjour', { skip: skip ?? false }, () => {
  let pair: NamespacePair;
  before(() => {
    pair = createPair(String(process.pid));
  });
  after(() => pair?.remove());

  test('each server under its seed-style name with its port, TXT and address; a name taken is renamed; SIGTERM says goodbye', async () => {
    const browser = new Browser(pair, 60);
    const args = ['--path', DEMO_MEDIA, '--workers', '1', '-p', 'tcp:18080', '--shape', '1MB,200kB', '-v', 'one.local', '--path', DEMO_MEDIA];
    args.push('--bonjour', '-', '--bonjour', 'Second on %d', '-h', '18081', '--bonjour', 'Other %s');
    let server: ServerProcess | undefined;
    let other: ServerProcess | undefined;
    try {
      server = await startCli(args, { netns: pair.server, loopbackPort: false, servers: 2 });
      // From the ready line: advertising starts once the server serves.
      const started = performance.now();
      const computer = hostname().split('.')[0]!;
      const first = `Mediacast-Webserver (${computer} on port 18080)`;
      const expected = [first, 'Second on 18080', `Other ${computer}`];
      assert.ok(
        await waitFor(() => expected.every((name) => browser.live().has(name)), 5000 - (performance.now() - started)),
        `within 5 s of startup the browser heard ${JSON.stringify([...browser.live()])}`,
      );
      // Resolving an instance (SRV, TXT, then the target's address) may take one more query round.
      const resolved = (name: string): boolean => {
        const target = (browser.record('SRV', `${name}._http._tcp.local`)?.data as { target?: string } | undefined)?.target;
        return browser.record('TXT', `${name}._http._tcp.local`) !== undefined && target !== undefined && browser.record('A', target) !== undefined;
      };
      assert.ok(await waitFor(() => expected.every(resolved), 3000), `resolved: ${expected.filter(resolved)}`);
      const srv = browser.record('SRV', `${first}._http._tcp.local`);
      assert.equal((srv?.data as { port: number }).port, 18080);
      assert.equal((browser.record('SRV', `Other ${computer}._http._tcp.local`)?.data as { port: number }).port, 18081);
      const txt = browser.record('TXT', `${first}._http._tcp.local`)?.data as string[];
      assert.ok(txt.includes('path=/') && txt.includes('vhosts=one.local') && txt.includes('rate=1000000') && txt.includes('client-rate=200000'), String(txt));
      assert.ok(txt.some((entry) => /^version=mediacast\/\d+\.\d+\.\d+$/.test(entry)), String(txt));
      const target = (srv?.data as { target: string }).target;
      const addresses = browser.heard.filter((r) => (r.type === 'A' || r.type === 'AAAA') && r.name === target).map((r) => String(r.data));
      assert.ok(addresses.includes(pair.serverAddress), `addresses of ${target}: ${addresses}`);
      assert.ok(!addresses.some((a) => a.startsWith('127.') || a.startsWith('fe80') || a.startsWith('::ffff')), `never loopback, link-local or mapped: ${addresses}`);
      // Another server on the network wants a name already taken: it is renamed, and says so.
      other = await startCli(['--path', DEMO_MEDIA, '--workers', '1', '-p', 'tcp:18082', '--bonjour', 'Second on 18080'], { netns: pair.server, loopbackPort: false });
      assert.ok(await waitFor(() => /is taken on the network; advertising as "Second on 18080 \(2\)"/.test(other!.stderr()), 8000), other.stderr());
      assert.ok(await waitFor(() => browser.live().has('Second on 18080 (2)'), 5000));
      // SIGTERM: goodbyes, so the browser forgets the first server's services at once (not after the TTL).
      const stopping = performance.now();
      const exited = server!.stop('SIGTERM');
      assert.ok(await waitFor(() => !expected.some((name) => browser.live().has(name)), 3000), `still live: ${[...browser.live()]}`);
      assert.ok(performance.now() - stopping < 3000);
      assert.equal(await exited, 0);
      assert.ok(browser.live().has('Second on 18080 (2)'), 'the other server is still there');
    } finally {
      await server?.stop();
      await other?.stop();
      browser.stop();
    }
  });

  test('avahi-browse -rt in the client namespace lists each server under its seed-style name with its address and port; gone on SIGTERM', async (t) => {
    const missing = avahiMissing();
    if (missing !== null) {
      t.skip(missing);
      return;
    }
    const avahi = await startAvahi(pair);
    if (typeof avahi === 'string') {
      t.skip(avahi);
      return;
    }
    const browse = avahi.browse('_http._tcp');
    let server: ServerProcess | undefined;
    try {
      server = await startCli(['--path', DEMO_MEDIA, '--workers', '1', '-p', 'tcp:18084', '--bonjour', '-', '-h', '18085', '--bonjour', '-'], { netns: pair.server, loopbackPort: false, servers: 2 });
      const computer = hostname().split('.')[0]!;
      // Resolved lines: = ; interface ; protocol ; name ; type ; domain ; host ; address ; port ; txt
      const resolved = (name: string) => browse.lines.find(({ fields }) => fields[0] === '=' && avahiUnescape(fields[3]!) === name);
      const names = [18084, 18085].map((port) => `Mediacast-Webserver (${computer} on port ${port})`);
      assert.ok(await waitFor(() => names.every((name) => resolved(name) !== undefined), 8000), browse.lines.map((line) => line.fields.join(';')).join('\n'));
      for (const [i, name] of names.entries()) {
        const fields = resolved(name)!.fields;
        assert.deepEqual([fields[7], fields[8]], [pair.serverAddress, String(18084 + i)], fields.join(';'));
        assert.match(fields[9] ?? '', /"path=\/"/);
      }
      const stopping = performance.now();
      assert.equal(await server.stop('SIGTERM'), 0);
      const removed = (name: string) => browse.lines.find(({ at, fields }) => at > stopping && fields[0] === '-' && avahiUnescape(fields[3]!) === name);
      assert.ok(await waitFor(() => names.every((name) => removed(name) !== undefined), 3000), 'avahi-browse saw both go');
      for (const name of names) assert.ok(removed(name)!.at - stopping < 3000, `${name} went ${(removed(name)!.at - stopping).toFixed(0)} ms after SIGTERM`);
    } finally {
      await server?.stop();
      browse.stop();
      avahi.stop();
    }
  });

  test('an interface with multicast off, or a --bonjour-interface that does not exist, is warned about', async () => {
    execFileSync('ip', ['-n', pair.server, 'link', 'set', pair.serverInterface, 'multicast', 'off']);
    try {
      const server = await startCli(['--path', DEMO_MEDIA, '--workers', '1', '-p', 'tcp:18083', '--bonjour', '-', '--bonjour-interface', pair.serverInterface, '--bonjour-interface', 'nosuch0'], {
        netns: pair.server,
        loopbackPort: false,
      });
      try {
        assert.ok(await waitFor(() => /interface \S+ has multicast off/.test(server.stderr()), 3000), server.stderr());
        assert.match(server.stderr(), /--bonjour-interface nosuch0: no such interface/);
      } finally {
        assert.equal(await server.stop(), 0);
      }
    } finally {
      execFileSync('ip', ['-n', pair.server, 'link', 'set', pair.serverInterface, 'multicast', 'on']);
    }
  });
});
