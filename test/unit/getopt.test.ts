import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseArgv } from '../../src/cli/getopt.js';

const ok = (argv: string[]): string[] => {
  const parsed = parseArgv(argv);
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.message);
  return parsed.argv;
};
const message = (argv: string[]): string => {
  const parsed = parseArgv(argv);
  assert.ok(!parsed.ok, `accepted ${JSON.stringify(argv)}`);
  return parsed.message;
};

test('the seed forms of values: attached, separate, with "=", and values starting with "-"', () => {
  assert.deepEqual(ok(['-p8080', '-s100000']), ['-p=8080', '-s=100000']);
  assert.deepEqual(ok(['-p', '8080', '--shape', '-,500kB']), ['-p=8080', '--shape=-,500kB']);
  assert.deepEqual(ok(['--port=tcp:8080:interface=127.0.0.1']), ['--port=tcp:8080:interface=127.0.0.1']);
  assert.deepEqual(ok(['-p=8080']), ['-p=8080']);
  assert.deepEqual(ok(['--shutdown-timeout', '-1']), ['--shutdown-timeout=-1']);
});

test('-h (the seed host option) is bound by its long name: clipanion reads -h= as help', () => {
  assert.deepEqual(ok(['-h', '8081', '-h8082']), ['--host=8081', '--host=8082']);
});

test('names with digits, which clipanion cannot bind, stay two arguments', () => {
  assert.deepEqual(ok(['--shape-ipv6-prefix', '64']), ['--shape-ipv6-prefix', '64']);
  assert.deepEqual(ok(['--shape-ipv6-prefix=64']), ['--shape-ipv6-prefix', '64']);
});

test('grouped flags, and a group ending in an option that takes the rest or the next argument', () => {
  assert.deepEqual(ok(['-un']), ['-u', '-n']);
  assert.deepEqual(ok(['-us100000']), ['-u', '-s=100000']);
  assert.deepEqual(ok(['-up', '8080']), ['-u', '-p=8080']);
});

test('the command name, --help and --version pass through; help wins over the rest of the line, not as a value', () => {
  assert.deepEqual(ok(['serve', '--cors']), ['serve', '--cors']);
  assert.deepEqual(ok(['--help']), ['--help']);
  assert.deepEqual(ok(['--cors', '--version', '--frobnicate']), ['--version']);
  assert.deepEqual(ok(['--path', '--help']), ['--path=--help'], 'a value, whatever it looks like');
});

test('a unique prefix of a long name is that option, as getopt read it; -- ends the options', () => {
  assert.deepEqual(ok(['--log', 'a.log', '--shutdown=5']), ['--logfile=a.log', '--shutdown-timeout=5']);
  assert.deepEqual(ok(['--dotfile']), ['--dotfiles']);
  assert.match(message(['--shape-', '16']), /^unknown option --shape-/, 'a prefix of several names is not one');
  assert.deepEqual(ok(['--cors', '--']), ['--cors']);
  assert.match(message(['--', 'media']), /^unexpected argument "media"/);
});

test('what cannot be read is named, with what was expected', () => {
  assert.equal(message(['--path']), '--path: missing value (e.g. --path ./media)');
  assert.equal(message(['-p']), '-p: missing value (e.g. -p 8080)');
  assert.equal(message(['-h']), '-h: missing value (e.g. -h 8081 --path ./other); for help, --help');
  assert.equal(message(['--dotflies']), 'unknown option --dotflies; did you mean --dotfiles?');
  assert.equal(message(['--zzzzzz']), 'unknown option --zzzzzz');
  assert.equal(message(['-x']), 'unknown option -x');
  assert.equal(message(['-ux']), '-x (in "-ux") is not an option');
  assert.equal(message(['--cors=1']), '--cors takes no value (got "1")');
  assert.match(message(['--path', 'my', 'media']), /^unexpected argument "media": every value belongs to an option/);
  assert.match(message(['twistd', '-n', 'mediacastserver']), /^"twistd" belongs to a twistd command line/);
});
