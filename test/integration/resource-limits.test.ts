/**
 * Resource exhaustion: what a client can make the server hold (memory, descriptors, pool time)
 * stays bounded.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { rawRequest } from '../helpers/http.js';
import { HAS_PROC, rssBytes } from '../helpers/proc.js';
import { startCli } from '../helpers/server-process.js';

let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'mediacast-limits-'));
  mkdirSync(join(dir, 'root'));
  writeFileSync(join(dir, 'root', 'seg.ts'), Buffer.alloc(200_000, 3));
});

after(() => rmSync(dir, { recursive: true, force: true }));

describe('memory', () => {
  test('300 spellings of one 200 KB file keep one copy of it in memory', { skip: !HAS_PROC && 'needs /proc' }, async () => {
    const server = await startCli(['--path', join(dir, 'root'), '--workers', '1']);
    try {
      const first = await rawRequest(server.url, '/seg.ts');
      assert.equal(first.body.length, 200_000);
      const before = rssBytes(server.pid);
      for (let slashes = 2; slashes <= 301; slashes++) {
        const res = await rawRequest(server.url, `${'/'.repeat(slashes)}seg.ts`);
        assert.equal(res.body.length, 200_000);
      }
      const grown = rssBytes(server.pid) - before;
      // Keyed by URL, the 300 copies took 60 MB.
      assert.ok(grown < 20 * 1024 * 1024, `RSS grew by ${(grown / 1024 / 1024).toFixed(1)} MiB`);
    } finally {
      await server.stop();
    }
  });
});
