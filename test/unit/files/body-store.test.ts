import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BodyStore, createBodyBudget } from '../../../src/files/body-store.js';

const id = (ino: number, size: number, mtimeMs = 1) => ({ dev: 1, ino, size, mtimeMs });

test('one body per file version, whatever asked for it', () => {
  const store = new BodyStore(createBodyBudget(), 1000);
  const first = store.put(id(1, 100), Buffer.alloc(100));
  assert.equal(store.put(id(1, 100), Buffer.alloc(100)), first, 'the same version is stored once');
  assert.equal(store.get(id(1, 100)), first);
  assert.equal(store.get(id(1, 100, 2)), undefined, 'another mtime is another version');
  assert.equal(store.bytes, 100);
});

test('workers share one budget: a store over it evicts its own oldest bodies first', () => {
  const budget = createBodyBudget();
  const a = new BodyStore(budget, 1000);
  const b = new BodyStore(budget, 1000);
  const a1 = a.put(id(1, 400), Buffer.alloc(400));
  const b1 = b.put(id(2, 400), Buffer.alloc(400));
  assert.equal(a.processBytes, 800);
  const a2 = a.put(id(3, 400), Buffer.alloc(400));
  assert.equal(a1.buffer, null, "a's oldest body went to make room");
  assert.ok(a2.buffer && b1.buffer);
  assert.equal(a.processBytes, 800);
  // b cannot make room for 700 more from its own bodies: it does not store it.
  const big = b.put(id(4, 700), Buffer.alloc(700));
  assert.equal(big.buffer, null);
  assert.equal(b.processBytes, 400, "b evicted its own body, then gave up");
  assert.equal(b1.buffer, null);
  assert.ok(a2.buffer, "a's bodies are a's to evict");
});
