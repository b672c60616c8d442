import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../src/config/errors.js';
import { describeRate, parseQuantity } from '../../src/config/rate-units.js';
import { parseShapeSpec } from '../../src/config/shape-spec.js';

const rates: Array<[string, number]> = [
  ['250000', 250_000],
  ['1.5', 2],
  ['500kB', 500_000],
  ['500 kB', 500_000],
  ['500KB', 500_000],
  ['2MB', 2_000_000],
  ['1GB', 1_000_000_000],
  ['500KiB', 512_000],
  ['1.5MiB', 1_572_864],
  ['400kbit', 50_000],
  ['4Mbit', 500_000],
  ['4mbit', 500_000],
  ['1Gbit', 125_000_000],
  ['4Mbps', 500_000],
  ['4Mbps/s', 500_000],
  ['500kB/s', 500_000],
  ['8bit', 1],
  ['100B', 100],
];
for (const [text, bytes] of rates) {
  test(`rate ${text} = ${bytes} B/s`, () => assert.deepEqual(parseQuantity(text, 'rate'), { ok: true, bytes }));
}

const refused: Array<[string, RegExp]> = [
  ['500k', /^"500k" is ambiguous: write 500kB \(500,000 B\/s\), 500KiB \(512,000 B\/s\) or 500kbit \(62,500 B\/s\)$/],
  ['2M', /2MB \(2,000,000 B\/s\), 2MiB \(2,097,152 B\/s\) or 2Mbit \(250,000 B\/s\)/],
  ['', /is empty/],
  ['-5', /is negative/],
  ['5 fast', /unknown unit "fast"/],
  ['5 k B', /not a number with an optional unit/],
  ['5mb', /unknown unit "mb"/],
  ['5furlongs', /unknown unit "furlongs"/],
  ['abc', /not a number/],
  // 0 means no limit: a rate that rounds to 0 would silently lift the limit.
  ['0.4', /^"0.4" is less than 1 B\/s, the smallest rate \(0 means no limit\)$/],
  ['3bit', /less than 1 B\/s/],
];
for (const [text, message] of refused) {
  test(`rate "${text}" is refused`, () => {
    const parsed = parseQuantity(text, 'rate');
    assert.equal(parsed.ok, false);
    assert.match(parsed.ok ? '' : parsed.message, message);
  });
}

test('a burst is a size: "/s" is refused, the ambiguity message says B', () => {
  assert.deepEqual(parseQuantity('1MiB', 'size'), { ok: true, bytes: 1_048_576 });
  assert.match((parseQuantity('1MB/s', 'size') as { message: string }).message, /is a rate; a burst is a size/);
  assert.match((parseQuantity('500k', 'size') as { message: string }).message, /500kB \(500,000 B\),/);
});

test('--shape defaults: client rate = server rate, bursts = one second of their rate', () => {
  assert.deepEqual(parseShapeSpec('100000', '-s'), { server: { rate: 100_000, burst: 100_000 }, client: { rate: 100_000, burst: 100_000 } });
  assert.deepEqual(parseShapeSpec('40Mbit,4Mbit', '-s'), {
    server: { rate: 5_000_000, burst: 5_000_000 },
    client: { rate: 500_000, burst: 500_000 },
  });
  assert.deepEqual(parseShapeSpec('2000000,250000,4000000,500000', '-s'), {
    server: { rate: 2_000_000, burst: 4_000_000 },
    client: { rate: 250_000, burst: 500_000 },
  });
  assert.deepEqual(parseShapeSpec('-,500kB', '-s'), { server: { rate: 0, burst: 0 }, client: { rate: 500_000, burst: 500_000 } });
  assert.deepEqual(parseShapeSpec('1MB,-,-,64KiB', '-s'), { server: { rate: 1e6, burst: 1e6 }, client: { rate: 0, burst: 65_536 } });
  assert.deepEqual(parseShapeSpec('1MB,100kB,0,0', '-s'), { server: { rate: 1e6, burst: 0 }, client: { rate: 100_000, burst: 0 } });
});

test('--shape errors name the part at fault', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /^-s: server-rate is empty \(in ""\)$/],
    ['1MB,', /^-s: client-rate is empty/],
    ['1MB,-2', /^-s: client-rate "-2" is negative/],
    ['1MB,1MB,1Mfurlong', /^-s: server-burst unknown unit "Mfurlong"/],
    ['1MB,1MB,1MB,500k', /^-s: client-burst "500k" is ambiguous/],
    ['1,2,3,4,5', /has 5 parts, expected at most 4: server-rate,client-rate,server-burst,client-burst/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseShapeSpec(text, '-s'), (e: unknown) => e instanceof ConfigError && message.test(e.message), text);
  }
});

test('rates are described in bytes and bits', () => {
  assert.equal(describeRate(500_000), '500,000 B/s = 4.000 Mbit/s');
  assert.equal(describeRate(125), '125 B/s = 1.000 kbit/s');
  assert.equal(describeRate(1.25e8), '125,000,000 B/s = 1.000 Gbit/s');
});
