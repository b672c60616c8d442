import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chunkBytes, MAX_CHUNK_BYTES } from '../../../src/shaping/chunk-size.js';

test('chunks hold about 10 ms of the effective rate, 1 KiB to 64 KiB', () => {
  assert.equal(chunkBytes(1_000_000, 1, 0, 1), 10_000);
  assert.equal(chunkBytes(10_000, 1, 0, 1), 1024);
  assert.equal(chunkBytes(1e10, 1, 0, 1), MAX_CHUNK_BYTES);
  assert.equal(chunkBytes(0, 1, 0, 1), MAX_CHUNK_BYTES);
});

test('the effective rate is the smaller share', () => {
  // 1 MB/s server shared by 100 flows: 10 kB/s each.
  assert.equal(chunkBytes(0, 1, 1_000_000, 100), 1024);
  // 2 MB/s client shared by its 2 connections.
  assert.equal(chunkBytes(2_000_000, 2, 100_000_000, 2), 10_000);
});

test('at very low rates a chunk is due within 2 s (uWS idles connections out after ~10 s)', () => {
  assert.equal(chunkBytes(1000, 1, 0, 1), 1024);
  assert.equal(chunkBytes(100, 1, 0, 1), 200);
  assert.equal(chunkBytes(1, 1, 0, 1), 2);
});
