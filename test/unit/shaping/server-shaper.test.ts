import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ShapeLimits } from '../../../src/config/shape-spec.js';
import { keyFromAddress } from '../../../src/shaping/client-key.js';
import { clearClientLimit, clientLimits, setClientLimit } from '../../../src/shaping/client-limits.js';
import { kServerActiveFlows, kServerTatNanos } from '../../../src/shaping/layout.js';
import { PacingScheduler } from '../../../src/shaping/scheduler.js';
import { openNestedFlow, ServerShaper, type TokenGate } from '../../../src/shaping/server-shaper.js';
import { createShaperMemory, setLimits } from '../../../src/shaping/shaper-memory.js';
import { FakeClock } from './fake-clock.js';

function setup(limits: ShapeLimits, tickMs = 0) {
  const clock = new FakeClock();
  let firings = 0;
  const counted = { now: () => clock.now(), setTimer: (callback: () => void, delayMs: number) => clock.setTimer(() => (firings++, callback()), delayMs), clearTimer: (handle: unknown) => clock.clearTimer(handle) };
  const shaper = new ServerShaper(createShaperMemory(limits, 64), new PacingScheduler(counted, tickMs), { clock: clock.nanos });
  return { clock, shaper, firings: () => firings };
}

/** A backlogged sender: writes whatever the gate admits, resumes when it opens. */
function drain(gate: TokenGate, total: number): { sent: () => number } {
  let sent = 0;
  const pump = (): void => {
    for (;;) {
      const n = gate.admit(total - sent);
      if (n === 0 || sent >= total) return;
      gate.spent(n);
      sent += n;
    }
  };
  gate.onOpen = pump;
  pump();
  return { sent: () => sent };
}

const ip = (n: number) => keyFromAddress(new Uint8Array([127, 0, 0, n]));

test('server bucket: the burst goes at once, then the rate', () => {
  const { clock, shaper } = setup({ server: { rate: 100_000, burst: 10_000 }, client: { rate: 0, burst: 0 } });
  const flow = drain(shaper.openFlow(ip(2)), 10_000_000);
  // Whole chunks (1 KiB here) fit in the burst; the one that does not waits.
  assert.ok(flow.sent() > 10_000 - 1024 && flow.sent() <= 10_000, `burst sent ${flow.sent()}`);
  for (const t of [100, 500, 1000, 2500]) {
    clock.advance(t);
    const expected = 10_000 + (100_000 * t) / 1000;
    assert.ok(Math.abs(flow.sent() - expected) <= 1000, `at ${t} ms sent ${flow.sent()}, expected about ${expected}`);
  }
});

test('two flows of one client share its bucket; two clients do not', () => {
  const { clock, shaper } = setup({ server: { rate: 0, burst: 0 }, client: { rate: 100_000, burst: 0 } });
  const a1 = drain(shaper.openFlow(ip(2)), 1e9);
  const a2 = drain(shaper.openFlow(ip(2)), 1e9);
  const b = drain(shaper.openFlow(ip(3)), 1e9);
  clock.advance(2000);
  const sharedTotal = a1.sent() + a2.sent();
  assert.ok(Math.abs(sharedTotal - 200_000) <= 2000, `client A got ${sharedTotal}`);
  assert.ok(Math.abs(b.sent() - 200_000) <= 2000, `client B got ${b.sent()}`);
  assert.ok(Math.abs(a1.sent() - a2.sent()) <= 2000, `A's connections split ${a1.sent()} / ${a2.sent()}`);
});

test('per-connection flows (no key) each get their own bucket', () => {
  const { clock, shaper } = setup({ server: { rate: 0, burst: 0 }, client: { rate: 100_000, burst: 0 } });
  const a = drain(shaper.openFlow(null), 1e9);
  const b = drain(shaper.openFlow(null), 1e9);
  clock.advance(1000);
  assert.ok(Math.abs(a.sent() - 100_000) <= 1000 && Math.abs(b.sent() - 100_000) <= 1000, `${a.sent()} ${b.sent()}`);
});

test('a rate change applies to running flows', () => {
  const { clock, shaper } = setup({ server: { rate: 100_000, burst: 0 }, client: { rate: 0, burst: 0 } });
  const flow = drain(shaper.openFlow(ip(2)), 1e9);
  clock.advance(1000);
  const atOneSecond = flow.sent();
  setLimits(shaper.view, { server: { rate: 400_000, burst: 0 }, client: { rate: 0, burst: 0 } });
  clock.advance(2000);
  const inSecondSecond = flow.sent() - atOneSecond;
  assert.ok(Math.abs(inSecondSecond - 400_000) <= 10_000, `sent ${inSecondSecond} in the second after the change`);
});

test('the client bucket releases a chunk before the server bucket is asked (no server budget held)', () => {
  const { clock, shaper } = setup({ server: { rate: 1_000_000, burst: 0 }, client: { rate: 10_000, burst: 0 } });
  const slow = drain(shaper.openFlow(ip(2)), 1e9);
  const fast = drain(shaper.openFlow(ip(3)), 1e9);
  clock.advance(1000);
  // Both clients are held by their own 10 kB/s buckets: the server bucket never starves anyone.
  assert.ok(Math.abs(slow.sent() - 10_000) <= 1100 && Math.abs(fast.sent() - 10_000) <= 1100, `${slow.sent()} ${fast.sent()}`);
});

test('closing a flow stops it, frees its counts and refunds what it had not sent', () => {
  const { clock, shaper } = setup({ server: { rate: 100_000, burst: 0 }, client: { rate: 0, burst: 0 } });
  const gate = shaper.openFlow(ip(2));
  assert.equal(shaper.view[kServerActiveFlows], 1n);
  assert.equal(gate.admit(1_000_000), 0); // waits 10 ms for its first 1000 B chunk
  gate.close();
  assert.equal(shaper.view[kServerActiveFlows], 0n);
  clock.advance(100);
  // The refunded bucket lets the next flow start without the dead flow's debt.
  const next = drain(shaper.openFlow(ip(3)), 1e9);
  clock.advance(1100);
  assert.ok(Math.abs(next.sent() - 100_000) <= 1000, `${next.sent()}`);
});

test('nested scopes: a virtual host limit and its server limit both apply', () => {
  const clock = new FakeClock();
  const scheduler = new PacingScheduler(clock, 0);
  const server = new ServerShaper(createShaperMemory({ server: { rate: 100_000, burst: 100_000 }, client: { rate: 0, burst: 0 } }, 64), scheduler, { clock: clock.nanos });
  const vhost = new ServerShaper(createShaperMemory({ server: { rate: 30_000, burst: 30_000 }, client: { rate: 20_000, burst: 20_000 } }, 64), scheduler, { clock: clock.nanos });
  // Two clients of the virtual host (each at most 20 kB/s, together at most 30 kB/s), one of the plain server.
  const a = drain(openNestedFlow([{ shaper: vhost, key: ip(2) }, { shaper: server, key: ip(2) }]), 1e9);
  const b = drain(openNestedFlow([{ shaper: vhost, key: ip(3) }, { shaper: server, key: ip(3) }]), 1e9);
  const plain = drain(server.openFlow(ip(4)), 1e9);
  clock.advance(1000);
  const [a0, b0, plain0] = [a.sent(), b.sent(), plain.sent()];
  clock.advance(11_000);
  // Over the 10 s after the bursts: the virtual host at its 30 kB/s, each client under its 20 kB/s.
  const vhostTotal = a.sent() - a0 + (b.sent() - b0);
  assert.ok(Math.abs(vhostTotal - 300_000) <= 6000, `the virtual host got ${vhostTotal}`);
  assert.ok(a.sent() - a0 <= 200_000 && b.sent() - b0 <= 200_000, `clients ${a.sent() - a0} / ${b.sent() - b0}`);
  // The server's 100 kB/s is shared by all three: the plain client gets what the virtual host leaves.
  const serverTotal = vhostTotal + plain.sent() - plain0;
  assert.ok(Math.abs(serverTotal - 1_000_000) <= 10_000, `server total ${serverTotal}`);
});

test('closing a nested flow releases its slots and flow counts in every scope', () => {
  const clock = new FakeClock();
  const scheduler = new PacingScheduler(clock, 0);
  const limits = { server: { rate: 1000, burst: 0 }, client: { rate: 1000, burst: 0 } };
  const server = new ServerShaper(createShaperMemory(limits, 64), scheduler, { clock: clock.nanos });
  const vhost = new ServerShaper(createShaperMemory(limits, 64), scheduler, { clock: clock.nanos });
  const gate = openNestedFlow([{ shaper: vhost, key: ip(2) }, { shaper: server, key: ip(2) }]);
  gate.admit(10_000);
  assert.equal(server.view[kServerActiveFlows], 1n);
  assert.equal(vhost.view[kServerActiveFlows], 1n);
  gate.close();
  gate.close();
  assert.equal(server.view[kServerActiveFlows], 0n);
  assert.equal(vhost.view[kServerActiveFlows], 0n);
});

test('on the 2-ms grid, slow flows share coarser firings and keep their rate; with no burst they are not made late', () => {
  // 20 clients at 10 kB/s, 1-s bursts: each waits ~100 ms between 1-KiB chunks, so it may be up
  // to 12.5 ms late (the 8-ms grid): fewer firings than 20 flows x 10 chunks a second, no bytes lost.
  const { clock, shaper, firings } = setup({ server: { rate: 0, burst: 0 }, client: { rate: 10_000, burst: 10_000 } }, 2);
  const flows = Array.from({ length: 20 }, (_, i) => drain(shaper.openFlow(ip(10 + i)), 1e9));
  clock.advance(10_000);
  for (const flow of flows) assert.ok(flow.sent() >= 0.995 * (10_000 + 100_000) - 1024, `sent ${flow.sent()}`);
  assert.ok(firings() <= 10_000 / 8 + 10, `${firings()} firings in 10 s`);
  // No burst: lateness would not be given back, so the flow stays on the 2-ms grid (a 64-ms
  // chunk interval: at most 2 ms, 3 %, late).
  const strict = setup({ server: { rate: 0, burst: 0 }, client: { rate: 16_000, burst: 0 } }, 2);
  const flow = drain(strict.shaper.openFlow(ip(2)), 1e9);
  strict.clock.advance(10_000);
  assert.ok(flow.sent() >= 0.96 * 160_000, `sent ${flow.sent()} of 160,000`);
});

test('a client limit set at runtime reaches its running flows, leaves other clients alone, and is cleared; one set before the client comes applies when it does', () => {
  const { clock, shaper } = setup({ server: { rate: 0, burst: 0 }, client: { rate: 100_000, burst: 0 } });
  const a = drain(shaper.openFlow(ip(2)), 1e9);
  const b = drain(shaper.openFlow(ip(3)), 1e9);
  clock.advance(1000);
  const [a1, b1] = [a.sent(), b.sent()];
  setClientLimit(shaper.view, ip(2), { rate: 20_000, burst: 0 });
  clock.advance(2000);
  const [a2, b2] = [a.sent(), b.sent()];
  assert.ok(Math.abs(a2 - a1 - 20_000) <= 2048, `A sent ${a2 - a1} in the second at its own 20 kB/s`);
  assert.ok(Math.abs(b2 - b1 - 100_000) <= 2048, `B sent ${b2 - b1}, untouched`);
  assert.equal(clearClientLimit(shaper.view, ip(2)), true);
  assert.equal(clearClientLimit(shaper.view, ip(2)), false, 'nothing left to clear');
  clock.advance(3000);
  // The chunk reserved at 20 kB/s still waits out its 51 ms: up to one such chunk's worth late.
  assert.ok(Math.abs(a.sent() - a2 - 100_000) <= 2048 + 5120, `A back at the server's 100 kB/s: ${a.sent() - a2}`);
  // Not connected yet: the limit waits for the client's slot.
  setClientLimit(shaper.view, ip(9), { rate: 10_000, burst: 0 });
  const late = drain(shaper.openFlow(ip(9)), 1e9);
  clock.advance(5000);
  assert.ok(Math.abs(late.sent() - 20_000) <= 2048, `the late client got ${late.sent()} in 2 s at 10 kB/s`);
  assert.deepEqual(clientLimits(shaper.view).map((entry) => entry.limit), [{ rate: 10_000, burst: 0 }]);
  assert.throws(() => setClientLimit(shaper.view, ip(2), { rate: 0, burst: 0 }), /a rate from 1/);
});

test('a flow waiting long at a low limit takes a raised one within the recheck time, not at the end of its wait', () => {
  const { clock, shaper } = setup({ server: { rate: 0, burst: 0 }, client: { rate: 100_000, burst: 0 } }, 2);
  const flow = drain(shaper.openFlow(ip(2)), 1e9);
  clock.advance(1000);
  // 500 B/s: the next 1-KiB chunk would wait two seconds.
  setClientLimit(shaper.view, ip(2), { rate: 500, burst: 0 });
  clock.advance(1100);
  setClientLimit(shaper.view, ip(2), { rate: 100_000, burst: 0 });
  const before = flow.sent();
  clock.advance(2100);
  // Taken up within the 150-ms recheck: at least 0.75 s of the second at 100 kB/s (without it, about 5 kB).
  assert.ok(flow.sent() - before >= 75_000, `sent ${flow.sent() - before} B in the second after the limit went back up`);
});

test('closing a flow gives nothing back to a bucket it passed without a rate (an unlimited server stays unlimited, then limits normally)', () => {
  const { clock, shaper } = setup({ server: { rate: 0, burst: 0 }, client: { rate: 100_000, burst: 100_000 } }, 2);
  const gate = shaper.openFlow(ip(2));
  // A chunk admitted but only partly written, then the client goes.
  const admitted = gate.admit(64 * 1024);
  assert.ok(admitted > 0);
  gate.spent(100);
  gate.close();
  assert.equal(Atomics.load(shaper.view, kServerTatNanos), 0n, 'the server bucket was never reserved from');
  setLimits(shaper.view, { server: { rate: 100_000, burst: 10_000 }, client: { rate: 1_000_000, burst: 10_000 } });
  const next = drain(shaper.openFlow(ip(3)), 1e9);
  clock.advance(2000);
  // Had the close pushed the server's TAT ahead by a 64-KiB chunk's cost at the old -1 "rate", nothing would pass.
  assert.ok(next.sent() >= 190_000, `a later client got ${next.sent()} B in 2 s at the new server limit`);
});

test('a limit ramping down every 50 ms does not keep restarting a slow flow\'s wait', () => {
  const { clock, shaper } = setup({ server: { rate: 0, burst: 0 }, client: { rate: 3000, burst: 0 } }, 2);
  const flow = drain(shaper.openFlow(ip(2)), 1e9);
  let rate = 3000;
  for (let t = 50; t <= 10_000; t += 50) {
    clock.advance(t);
    rate -= 5;
    setClientLimit(shaper.view, ip(2), { rate, burst: 0 });
  }
  // From 3 kB/s down to 2 kB/s: about 25 kB in 10 s.
  assert.ok(flow.sent() >= 20_000, `sent ${flow.sent()} B in 10 s`);
});
