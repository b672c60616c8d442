import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { OpenFiles } from '../../../src/files/open-files.js';

const dir = mkdtempSync(join(tmpdir(), 'mediacast-open-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('concurrent opens share one descriptor, closed when the last reader releases it', async () => {
  const path = join(dir, 'a.bin');
  writeFileSync(path, 'abc');
  const files = new OpenFiles();
  const [a, b] = await Promise.all([files.open(path, { root: dir }), files.open(path, { root: dir })]);
  assert.equal(a.handle.fd, b.handle.fd);
  assert.equal(a.stats.size, 3);
  assert.equal(files.size, 1);
  a.handle.release();
  a.handle.release(); // idempotent
  assert.equal(files.size, 1);
  b.handle.release();
  assert.equal(files.size, 0);
});

test('a descriptor older than the freshness window is not shared again', async () => {
  const path = join(dir, 'b.bin');
  writeFileSync(path, 'abc');
  let now = 0;
  const files = new OpenFiles(1000, () => now);
  const first = await files.open(path, { root: dir });
  now = 1500;
  writeFileSync(path, 'abcdef');
  const second = await files.open(path, { root: dir });
  assert.notEqual(second.handle.fd, first.handle.fd);
  assert.equal(second.stats.size, 6);
  first.handle.release();
  assert.equal(files.size, 1, 'the newer descriptor stays for its reader');
  second.handle.release();
  assert.equal(files.size, 0);
});

test('opening something that is not a regular file fails', async () => {
  await assert.rejects(new OpenFiles().open(dir, { root: dir }), /not a regular file/);
  await assert.rejects(new OpenFiles().open(join(dir, 'missing'), { root: dir }), /ENOENT/);
});
