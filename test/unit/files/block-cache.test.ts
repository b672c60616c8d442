import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { BLOCK_BYTES, BlockCache, blockStart } from '../../../src/files/block-cache.js';

const dir = mkdtempSync(join(tmpdir(), 'mediacast-blocks-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function fixture(bytes: number): { fd: number; identity: { dev: number; ino: number; size: number; mtimeMs: number } } {
  const path = join(dir, `f${bytes}`);
  writeFileSync(path, Buffer.from(Array.from({ length: bytes }, (_, i) => i % 251)));
  const stats = statSync(path);
  return { fd: openSync(path, 'r'), identity: { dev: stats.dev, ino: stats.ino, size: stats.size, mtimeMs: stats.mtimeMs } };
}

const get = (cache: BlockCache, fd: number, identity: Parameters<BlockCache['get']>[1], offset: number) =>
  new Promise<{ block: Buffer; started: boolean; sync: boolean }>((resolveGet, reject) => {
    let sync = true;
    let started = false;
    // A cached block calls back before get() returns (then no read was started).
    started = cache.get(fd, identity, offset, (error, block) => (error ? reject(error) : resolveGet({ block: block!, started, sync })));
    sync = false;
  });

test('one read per block, shared by concurrent and later readers', async () => {
  const { fd, identity } = fixture(BLOCK_BYTES * 2 + 100);
  const cache = new BlockCache();
  const [a, b] = await Promise.all([get(cache, fd, identity, 10), get(cache, fd, identity, 20)]);
  assert.equal(a.block, b.block, 'concurrent readers share one buffer');
  assert.equal(a.started, true);
  assert.equal(b.started, false);
  const later = await get(cache, fd, identity, BLOCK_BYTES - 1);
  assert.equal(later.block, a.block);
  assert.equal(later.sync, true, 'a cached block arrives synchronously');
  const last = await get(cache, fd, identity, BLOCK_BYTES * 2 + 5);
  assert.equal(last.block.length, 100);
  assert.equal(last.block[0], (BLOCK_BYTES * 2) % 251);
  assert.equal(blockStart(BLOCK_BYTES * 2 + 5), BLOCK_BYTES * 2);
  closeSync(fd);
});

test('the budget evicts the least recently used block', async () => {
  const { fd, identity } = fixture(BLOCK_BYTES * 3);
  const cache = new BlockCache(BLOCK_BYTES * 2);
  const first = await get(cache, fd, identity, 0);
  await get(cache, fd, identity, BLOCK_BYTES);
  await get(cache, fd, identity, 0); // block 0 used again: block 1 is now the oldest
  await get(cache, fd, identity, BLOCK_BYTES * 2);
  assert.equal((await get(cache, fd, identity, 0)).started, false, 'block 0 kept');
  assert.equal((await get(cache, fd, identity, BLOCK_BYTES)).started, true, 'block 1 evicted');
  assert.equal(first.block.length, BLOCK_BYTES, 'an evicted block stays valid for whoever holds it');
  closeSync(fd);
});

test('a file shorter than its recorded size is an error', async () => {
  const { fd, identity } = fixture(1000);
  await assert.rejects(get(new BlockCache(), fd, { ...identity, size: 5000 }, 0), /truncated/);
  closeSync(fd);
});
