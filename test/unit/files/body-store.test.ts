import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BodyStore, createBodyBudget } from '../../../src/files/body-store.js';

const id = (ino: number, size: number, mtimeMs = 1) => ({ dev: 1, ino, size, mtimeMs });

test('one body per file version, whatever asked for it', () => {
  const store = new BodyStore(createBodyBudget(1), 0, 1000);
  const first = store.put(id(1, 100), Buffer.alloc(100));
  assert.equal(store.put(id(1, 100), Buffer.alloc(100)), first, 'the same version is stored once');
  assert.equal(store.get(id(1, 100)), first);
  assert.equal(store.get(id(1, 100, 2)), undefined, 'another mtime is another version');
  assert.equal(store.bytes, 100);
});

test('workers share one budget: a store over it evicts its own oldest bodies, never another\'s, and never for nothing', () => {
  const budget = createBodyBudget(2);
  const a = new BodyStore(budget, 0, 1000);
  const b = new BodyStore(budget, 1, 1000);
  const a1 = a.put(id(1, 400), Buffer.alloc(400));
  const b1 = b.put(id(2, 400), Buffer.alloc(400));
  assert.equal(a.processBytes, 800);
  const a2 = a.put(id(3, 400), Buffer.alloc(400));
  assert.equal(a1.buffer, null, "a's oldest body went to make room");
  assert.ok(a2.buffer && b1.buffer);
  assert.equal(a.processBytes, 800);
  // 700 more cannot fit beside a's 400 whatever b evicts: b keeps what it has.
  const big = b.put(id(4, 700), Buffer.alloc(700));
  assert.equal(big.buffer, null);
  assert.ok(b1.buffer, 'nothing evicted for a body that could not be stored');
  assert.equal(b.processBytes, 800);
});

test('a worker that replaces a dead one starts its word from zero: the budget is not lost', () => {
  const budget = createBodyBudget(2);
  const dead = new BodyStore(budget, 1, 1000);
  dead.put(id(1, 900), Buffer.alloc(900));
  const replacement = new BodyStore(budget, 1, 1000);
  assert.equal(replacement.processBytes, 0);
  assert.ok(replacement.put(id(2, 900), Buffer.alloc(900)).buffer);
});
