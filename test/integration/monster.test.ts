/**
 * The vhost monster behind real reverse proxies: this server's own proxy in front (always) and
 * nginx's proxy_pass (when installed). Redirects and listing links name the public host; the
 * monster segments never leak.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { findNginx, startNginx, type RunningNginx } from '../../bench/support/nginx.js';
import { get } from '../helpers/http.js';
import { DEMO_MEDIA, startCli, type ServerProcess } from '../helpers/server-process.js';

const nginx = findNginx();

describe('vhost monster', () => {
  let backend: ServerProcess;
  before(async () => {
    backend = await startCli(['--path', DEMO_MEDIA, '--workers', '1', '--monster', 'vhm', '-v', 'tv.example', '--path', join(DEMO_MEDIA, 'dash')]);
  });
  after(() => backend?.stop());

  test('directly: the segments go, redirects name the public origin, the public host picks the virtual host, bad hosts are 400', async () => {
    const playlist = await get(`${backend.url}vhm/http/public.example:8080/master.m3u8`);
    assert.equal(playlist.status, 200);
    assert.deepEqual(playlist.body, readFileSync(join(DEMO_MEDIA, 'master.m3u8')));
    const redirect = await get(`${backend.url}vhm/https/public.example/dash?x=1`);
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers['location'], 'https://public.example/dash/?x=1');
    const vhost = await get(`${backend.url}vhm/http/TV.example:80/init-stream0.m4s`);
    assert.equal(vhost.status, 200, 'tv.example serves the dash directory at its root');
    for (const bad of ['vhm/http/bad_host!/x', 'vhm/ftp/public.example/x', 'vhm/http/public.example:99999/x', 'vhm']) {
      const response = await get(`${backend.url}${bad}`);
      assert.equal(response.status, 400, bad);
      assert.equal(response.headers['mediacast-error'], 'bad-monster-host', bad);
    }
    assert.equal((await get(`${backend.url}master.m3u8`)).status, 200, 'outside the monster path the server is as before');
  });

  const behind = async (front: string): Promise<void> => {
    const redirect = await get(`${front}dash`);
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers['location'], 'http://public.example:8080/dash/');
    const listing = await get(`${front}dash/`);
    assert.equal(listing.status, 200);
    const html = listing.body.toString();
    const links = [...html.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!);
    assert.ok(links.includes('./init-stream0.m4s'), links.join(' '));
    assert.ok(!html.includes('vhm'), 'no monster segment in the page');
    // Links resolve against the public URL, to the public URL.
    assert.equal(new URL(links.find((l) => l.endsWith('.m4s'))!, 'http://public.example:8080/dash/').origin, 'http://public.example:8080');
    const segment = await get(`${front}dash/init-stream0.m4s`);
    assert.deepEqual(segment.body, readFileSync(join(DEMO_MEDIA, 'dash', 'init-stream0.m4s')));
  };

  test('behind this server\'s own reverse proxy', async () => {
    const port = new URL(backend.url).port;
    const front = await startCli(['--workers', '1', '--reverse', `127.0.0.1,${port},vhm/http/public.example:8080`]);
    try {
      await behind(front.url);
    } finally {
      assert.equal(await front.stop(), 0);
    }
  });

  test('behind nginx proxy_pass', { skip: nginx === null && 'nginx is not installed' }, async () => {
    const port = new URL(backend.url).port;
    let front: RunningNginx | undefined;
    try {
      front = await startNginx(nginx!, {
        root: DEMO_MEDIA,
        serverDirectives: `location / { proxy_pass http://127.0.0.1:${port}/vhm/http/public.example:8080/; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_redirect off; }`,
      });
      await behind(front.url);
    } finally {
      await front?.stop();
    }
  });
});
