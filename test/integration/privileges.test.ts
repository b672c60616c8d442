/**
 * `--run-as`: started as root, the server drops to the account once its ports are open, and then
 * reads files with that account's permissions only.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { get } from '../helpers/http.js';
import { runCli, startCli } from '../helpers/server-process.js';

const isRoot = process.getuid?.() === 0;

/** A loopback port below `limit` (only root may bind those) that nothing listens on, or null. */
async function freeLowPort(limit: number): Promise<number | null> {
  for (let port = Math.min(limit, 1024) - 1; port >= Math.max(1, limit - 200); port--) {
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) return port;
  }
  return null;
}
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'mediacast-privileges-'));
  // World-searchable so that the dropped account can reach the root at all.
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'root'), { mode: 0o755 });
  writeFileSync(join(dir, 'root', 'public.txt'), 'public', { mode: 0o644 });
  writeFileSync(join(dir, 'root', 'root-only.txt'), 'root only', { mode: 0o600 });
});

after(() => rmSync(dir, { recursive: true, force: true }));

const ids = (pid: number, field: 'Uid' | 'Gid'): number[] =>
  new RegExp(`^${field}:\\s+(.*)$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]!.split(/\s+/).map(Number);

describe('--run-as', () => {
  test('drops every id of the process to the account after listening; root-only files are then refused', { skip: !isRoot && 'needs root' }, async () => {
    const server = await startCli(['--path', join(dir, 'root'), '--run-as', '4242:4343', '--workers', '2']);
    try {
      assert.deepEqual(ids(server.pid, 'Uid'), [4242, 4242, 4242, 4242], 'real, effective, saved and filesystem uid');
      assert.deepEqual(ids(server.pid, 'Gid'), [4343, 4343, 4343, 4343]);
      assert.equal((await get(new URL('/public.txt', server.url).href)).body.toString(), 'public');
      assert.equal((await get(new URL('/root-only.txt', server.url).href)).status, 403);
      assert.doesNotMatch(server.stderr(), /serving as root/);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });

  test('the switch comes after listening: a port only root may bind is served by the account', { skip: !isRoot && 'needs root' }, async (t) => {
    const unprivileged = Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'));
    const port = await freeLowPort(Math.min(unprivileged, 1024));
    if (port === null) {
      t.skip(`no port below ${unprivileged} is free, or any account may bind them here`);
      return;
    }
    const server = await startCli(['--path', join(dir, 'root'), '-p', `tcp:${port}:interface=127.0.0.1`, '--run-as', '4242:4343', '--workers', '1'], { loopbackPort: false });
    try {
      assert.deepEqual(ids(server.pid, 'Uid'), [4242, 4242, 4242, 4242]);
      assert.equal((await get(`http://127.0.0.1:${port}/public.txt`)).body.toString(), 'public');
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });

  test('serving as root without --run-as warns once at startup', { skip: !isRoot && 'needs root' }, async () => {
    const server = await startCli(['--path', join(dir, 'root'), '--workers', '1']);
    try {
      assert.equal(server.stderr().match(/warning: serving as root/g)?.length, 1);
    } finally {
      await server.stop();
    }
  });

  test('an unknown account or a malformed value is refused before anything listens', async () => {
    const unknown = await runCli(['--path', dir, '-p', 'tcp:0:interface=127.0.0.1', '--run-as', 'no-such-user-here']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^mediacast: --run-as: no user "no-such-user-here" in \/etc\/passwd\n$/);
    const malformed = await runCli(['--path', dir, '--run-as', 'a:b:c']);
    assert.equal(malformed.code, 2);
    assert.match(malformed.stderr, /--run-as \(option 2\): got "a:b:c", expected USER or USER:GROUP/);
    const numeric = await runCli(['--path', dir, '-p', 'tcp:0:interface=127.0.0.1', '--run-as', '4242']);
    assert.equal(numeric.code, 1);
    assert.match(numeric.stderr, /--run-as: uid 4242 has no entry in \/etc\/passwd; give its group too \(UID:GID\)/);
  });
});
