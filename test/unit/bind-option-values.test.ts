import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bindOptionValues } from '../../src/cli/bind-option-values.js';

test('value-taking options take the next argument, even one starting with "-"', () => {
  assert.deepEqual(bindOptionValues(['--shape', '-,500kB', '--cors', '-p', '8080']), ['--shape=-,500kB', '--cors', '-p=8080']);
  assert.deepEqual(bindOptionValues(['--shutdown-timeout', '-1']), ['--shutdown-timeout=-1']);
});

test('already bound values, flags and a trailing option are left alone', () => {
  assert.deepEqual(bindOptionValues(['--path=/x', '--no-cache', '--path']), ['--path=/x', '--no-cache', '--path']);
});

test('names clipanion cannot bind (with digits) stay two arguments', () => {
  assert.deepEqual(bindOptionValues(['--shape-ipv6-prefix', '64']), ['--shape-ipv6-prefix', '64']);
  assert.deepEqual(bindOptionValues(['--shape-ipv6-prefix=64']), ['--shape-ipv6-prefix', '64']);
});
