import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluateRange, type RangeOutcome } from '../../src/http/range.js';

const full: RangeOutcome = { kind: 'full' };
const none: RangeOutcome = { kind: 'unsatisfiable' };
const part = (start: number, end: number): RangeOutcome => ({ kind: 'partial', start, end });

const SIZE = 1000;
const table: Array<[header: string, size: number, expected: RangeOutcome]> = [
  ['', SIZE, full],
  ['bytes=0-0', SIZE, part(0, 0)],
  ['bytes=0-499', SIZE, part(0, 499)],
  ['bytes=999-999', SIZE, part(999, 999)],
  ['bytes=999-', SIZE, part(999, 999)],
  ['bytes=500-', SIZE, part(500, 999)],
  ['bytes=500-5000', SIZE, part(500, 999)],
  ['bytes=-1', SIZE, part(999, 999)],
  ['bytes=-500', SIZE, part(500, 999)],
  ['bytes=-5000', SIZE, part(0, 999)],
  ['BYTES=0-1', SIZE, part(0, 1)],
  ['bytes= 0-1 ', SIZE, part(0, 1)],
  ['bytes=0-1,', SIZE, part(0, 1)],
  ['bytes=0-4,5-9', SIZE, part(0, 9)],
  ['bytes=0-9,5-20', SIZE, part(0, 20)],
  ['bytes=5-9,0-4', SIZE, part(0, 9)],
  ['bytes=0-1,1000-2000', SIZE, part(0, 1)],
  ['bytes=0-1,3-4', SIZE, full],
  ['bytes=1000-', SIZE, none],
  ['bytes=1000-1000', SIZE, none],
  ['bytes=-0', SIZE, none],
  ['bytes=1000-,2000-', SIZE, none],
  ['bytes=0-', 0, none],
  ['bytes=-1', 0, none],
  ['bytes=5-4', SIZE, full],
  ['bytes=a-b', SIZE, full],
  ['bytes=-', SIZE, full],
  ['bytes=1-2-3', SIZE, full],
  ['bytes=0x10-', SIZE, full],
  ['bytes=1.5-2', SIZE, full],
  ['bytes=', SIZE, full],
  ['bytes=,', SIZE, full],
  ['items=0-1', SIZE, full],
  ['=0-1', SIZE, full],
  ['bytes 0-1', SIZE, full],
  [`bytes=${Array.from({ length: 100 }, (_, i) => `${i * 2}-${i * 2}`).join(',')}`, SIZE, full],
];

for (const [header, size, expected] of table) {
  test(`Range "${header.length > 40 ? `${header.slice(0, 40)}...` : header}" on ${size} bytes`, () => {
    assert.deepEqual(evaluateRange(header, size), expected);
  });
}
