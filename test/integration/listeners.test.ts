/**
 * Listen descriptions beyond plain TCP: TLS (ssl:) and unix sockets, including a stale socket
 * file left by a crashed run and one a live server still answers on.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli, startCli } from '../helpers/server-process.js';

let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'mediacast-listen-'));
  writeFileSync(join(dir, 'ten.bin'), '0123456789');
});

after(() => rmSync(dir, { recursive: true, force: true }));

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

test('ssl: serves over TLS from every worker', { skip: !hasOpenssl && 'openssl is not installed' }, async () => {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], {
    stdio: 'ignore',
  });
  const server = await startCli(['--path', dir, '--workers', '2', '-p', `ssl:0:privateKey=${key}:certKey=${cert}:interface=127.0.0.1`], {
    loopbackPort: false,
  });
  try {
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+\/$/);
    for (let i = 0; i < 4; i++) {
      const body = await new Promise<string>((resolveBody, reject) => {
        const req = httpsRequest(new URL('/ten.bin', server.url), { ca: [readFileSync(cert)], servername: 'localhost', agent: false }, (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d));
          res.on('end', () => resolveBody(text));
        });
        req.on('error', reject);
        req.end();
      });
      assert.equal(body, '0123456789');
    }
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

function getOverUnixSocket(socketPath: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolveResponse, reject) => {
    const req = httpRequest({ socketPath, path }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => resolveResponse({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('unix: serves on a socket file with the requested mode and removes it on exit', async () => {
  const socketPath = join(dir, 'media.sock');
  const server = await startCli(['--path', dir, '--workers', '2', '-p', `unix:${socketPath}:mode=660`], { loopbackPort: false });
  try {
    assert.equal(server.url, `unix:${socketPath}`);
    assert.equal(statSync(socketPath).mode & 0o777, 0o660);
    const res = await getOverUnixSocket(socketPath, '/ten.bin');
    assert.equal(res.status, 200);
    assert.equal(res.body, '0123456789');
  } finally {
    assert.equal(await server.stop(), 0);
  }
  assert.equal(existsSync(socketPath), false);
});

test('unix: a stale socket file left by a killed process is replaced', async () => {
  const socketPath = join(dir, 'stale.sock');
  // A process that dies by SIGKILL while listening leaves its socket file behind.
  spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => process.kill(process.pid, 'SIGKILL'))`]);
  assert.ok(statSync(socketPath).isSocket());
  const server = await startCli(['--path', dir, '--workers', '1', '-p', `unix:${socketPath}`], { loopbackPort: false });
  try {
    assert.equal((await getOverUnixSocket(socketPath, '/ten.bin')).status, 200);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('unix: a socket a live server answers on is refused (exit 1)', async () => {
  const socketPath = join(dir, 'live.sock');
  const live = createServer();
  live.listen(socketPath);
  await once(live, 'listening');
  try {
    const { code, stderr } = await runCli(['--path', dir, '-p', `unix:${socketPath}`]);
    assert.equal(code, 1);
    assert.match(stderr, /^mediacast: cannot listen on unix:.*live\.sock: another server is answering on it\n$/);
  } finally {
    live.close();
  }
});
