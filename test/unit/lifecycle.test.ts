import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startInOrder, type Subsystem } from '../../src/coordinator/lifecycle.js';

function recorder(): { events: string[]; make: (name: string, options?: { failStart?: boolean; failStop?: boolean }) => Subsystem } {
  const events: string[] = [];
  return {
    events,
    make: (name, options = {}) => ({
      name,
      async start() {
        events.push(`start ${name}`);
        if (options.failStart) throw new Error(`${name} refused`);
      },
      async stop(deadline) {
        events.push(`stop ${name} ${deadline > performance.now() ? 'in time' : 'now'}`);
        if (options.failStop) throw new Error(`${name} stuck`);
      },
    }),
  };
}

test('subsystems start in order and stop in reverse, against one deadline, once', async () => {
  const { events, make } = recorder();
  const running = await startInOrder([make('log'), make('workers'), make('mdns')], () => {});
  await Promise.all([running.stop(10_000), running.stop(10_000)]);
  assert.deepEqual(events, ['start log', 'start workers', 'start mdns', 'stop mdns in time', 'stop workers in time', 'stop log in time']);
});

test('a failure half-way stops what started, in reverse and at once, and rejects with the failure', async () => {
  const { events, make } = recorder();
  await assert.rejects(startInOrder([make('log'), make('workers'), make('privileges', { failStart: true }), make('mdns')], () => {}), /privileges refused/);
  assert.deepEqual(events, ['start log', 'start workers', 'start privileges', 'stop workers now', 'stop log now']);
});

test('one that fails to stop is logged and the others still stop', async () => {
  const { events, make } = recorder();
  const logged: string[] = [];
  const running = await startInOrder([make('log'), make('workers', { failStop: true }), make('mdns')], (line) => logged.push(line));
  await running.stop(1000);
  assert.deepEqual(events.slice(3), ['stop mdns in time', 'stop workers in time', 'stop log in time']);
  assert.deepEqual(logged, ['stopping the workers: workers stuck']);
});
