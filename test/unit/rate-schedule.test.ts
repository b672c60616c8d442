/** Rate schedules: steps and ramps, mahimahi, time_s Mbit/s and Sabre traces; rates over time. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { meanRate, parseSchedule, rateAt } from '../../src/config/rate-schedule.js';

test('steps and ramps: TIME:RATE holds, TIME~RATE ramps from the point before; loop or hold the last', () => {
  const schedule = parseSchedule('0s:4Mbit, 30s:1Mbit, 60s~4Mbit, 90s:4Mbit');
  assert.equal(schedule.format, 'steps');
  assert.equal(rateAt(schedule, 0, false), 500_000);
  assert.equal(rateAt(schedule, 29_999, false), 500_000);
  assert.equal(rateAt(schedule, 30_000, false), 125_000);
  // Halfway up the ramp from 1 to 4 Mbit/s.
  assert.equal(rateAt(schedule, 45_000, false), 312_500);
  assert.equal(rateAt(schedule, 60_000, false), 500_000);
  assert.equal(rateAt(schedule, 500_000, false), 500_000, 'once: the last rate holds');
  // Looping: the last point holds as long as the gap before it (30 s), then it starts over.
  assert.equal(schedule.lengthMs, 120_000);
  assert.equal(rateAt(schedule, 100_000, true), 500_000);
  assert.equal(rateAt(schedule, 120_000 + 30_000, true), 125_000);
  assert.equal(meanRate(parseSchedule('0s:100kB,1s:300kB')), 200_000);
  assert.equal(rateAt(parseSchedule('0s:4Mbit,30s:1Mbit'), 45_000, true), 125_000, 'the API example loops through both steps');
  assert.equal(meanRate(parseSchedule('0s:0,10s~100kB')), 75_000);
  assert.throws(() => parseSchedule('5s:1Mbit'), /the first point is at 0s/);
  assert.throws(() => parseSchedule('0s:1Mbit,0s:2Mbit'), /times must increase/);
  assert.throws(() => parseSchedule('0s:1Mbit,10s:fast'), /"10s:fast": the rate/);
  assert.throws(() => parseSchedule('0s~1Mbit'), /the first point is at 0s|a ramp needs a point before it/);
});

test('a mahimahi trace: 1500-byte opportunities per millisecond line, counted per 100 ms, repeating with its last timestamp', () => {
  // 4 packets in each 100 ms for 1 s: 60 kB/s; one extra in the first bin.
  const lines = [0];
  for (let ms = 0; ms < 1000; ms += 25) lines.push(ms);
  lines.push(1000);
  const schedule = parseSchedule(lines.join('\n'));
  assert.equal(schedule.format, 'mahimahi');
  assert.equal(schedule.lengthMs, 1000);
  assert.equal(rateAt(schedule, 150, true), 60_000);
  assert.equal(rateAt(schedule, 1050, true), 5 * 15_000, 'two lines at 0 in the first bin');
  assert.equal(rateAt(schedule, 950, true), 5 * 15_000, 'the line at the period itself in the last bin');
  // mahimahi's constant 12 Mbit/s trace: one line, "1".
  assert.equal(rateAt(parseSchedule('1'), 0, true), 1_500_000);
  // A period that is not a multiple of 100 ms: the last bin is shorter and its rate counts its width.
  const odd = parseSchedule('10\n120\n150');
  assert.equal(odd.lengthMs, 150);
  assert.equal(rateAt(odd, 120, true), 2 * 1500 * 1000 / 50);
  assert.throws(() => parseSchedule('0\n8640000000'), /lasts 8640000 s: at most a day/);
  // Mean: 42 packets of 1500 B in 1 s.
  assert.equal(meanRate(schedule), 63_000);
  assert.throws(() => parseSchedule('10\n5'), /line 2: 5 ms is before/);
});

test('time_s Mbit/s and Sabre traces', () => {
  const mbps = parseSchedule('0.0 1.0\n1.0 2.0\n2.0 4.0\n');
  assert.equal(mbps.format, 'mbps');
  assert.deepEqual([0, 1500, 2500].map((t) => rateAt(mbps, t, false)), [125_000, 250_000, 500_000]);
  assert.equal(mbps.lengthMs, 3000);
  const sabre = parseSchedule(JSON.stringify([{ duration_ms: 2000, bandwidth_kbps: 800, latency_ms: 50 }, { duration_ms: 1000, bandwidth_kbps: 400, latency_ms: 50 }]));
  assert.equal(sabre.format, 'sabre');
  assert.deepEqual([0, 2500].map((t) => rateAt(sabre, t, true)), [100_000, 50_000]);
  assert.equal(rateAt(sabre, 3500, true), 100_000);
  assert.throws(() => parseSchedule('[{"duration_ms": 0, "bandwidth_kbps": 1}]'), /entry 0: expected "duration_ms" above 0/);
  assert.throws(() => parseSchedule('[oops'), /not JSON/);
  assert.throws(() => parseSchedule('[{"duration_ms": 10, "bandwidth_kbps": 1e400}]'), /entry 0: a rate above/);
  assert.throws(() => parseSchedule('0 99999999999999999'), /line 1: a rate above/);
});
