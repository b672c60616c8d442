import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveArgv, type GivenOption } from '../../src/config/argv-plan.js';
import type { BuildEnv, PathKind } from '../../src/config/draft.js';
import { ConfigError } from '../../src/config/errors.js';

const env = (kinds: Record<string, PathKind> = {}): BuildEnv => ({
  cwd: '/srv',
  defaultWorkers: 3,
  statPath: (path) => kinds[path] ?? 'directory',
});
const opts = (...pairs: Array<[string, string | boolean]>): GivenOption[] => pairs.map(([name, value]) => ({ name, value }));

test('defaults: cwd on tcp:8080, index then index.html, octet-stream, one worker per CPU', () => {
  const plan = resolveArgv([], env());
  assert.deepEqual(plan.servers, [
    {
      id: 0,
      listen: { kind: 'tcp', port: 8080 },
      site: {
        root: '/srv',
        rootIsFile: false,
        indexes: ['index', 'index.html'],
        defaultType: 'application/octet-stream',
        ignoreExts: [],
        aliases: [],
        userDirs: null,
        proxies: [],
      },
      vhosts: [],
      shape: null,
      trustProxy: [],
      bonjour: [],
      monster: null,
      shapeSchedule: null,
    },
  ]);
  assert.deepEqual(plan.http, { cors: false, noCache: false, dotfiles: false, tracebacks: false, listings: true });
  assert.equal(plan.responseTiming, false);
  assert.equal(plan.workers, 3);
  assert.equal(plan.shutdownGraceMs, 10_000);
  assert.ok(Object.isFrozen(plan) && Object.isFrozen(plan.servers[0]!.site.indexes));
});

test('options build the site in order', () => {
  const plan = resolveArgv(
    opts(
      ['--path', 'media'],
      ['-i', 'start.html'],
      ['--index', 'index.m3u8'],
      ['-m', 'video/f4f'],
      ['--ignore-ext', '.m3u8'],
      ['--allow-ignore-ext', true],
      ['-p', 'tcp:9000:interface=127.0.0.1'],
      ['--cors', true],
      ['--no-cache', true],
      ['--dotfiles', true],
      ['--tracebacks', true],
      ['--no-listing', true],
      ['--workers', '4'],
      ['--shutdown-timeout', '2.5'],
    ),
    env({ '/srv/media': 'directory' }),
  );
  assert.deepEqual(plan.servers[0]!.site, {
    root: '/srv/media',
    rootIsFile: false,
    indexes: ['start.html', 'index.m3u8'],
    defaultType: 'video/f4f',
    ignoreExts: ['m3u8', '*'],
    aliases: [],
    userDirs: null,
    proxies: [],
  });
  assert.deepEqual(plan.servers[0]!.listen, { kind: 'tcp', port: 9000, host: '127.0.0.1' });
  assert.deepEqual(plan.http, { cors: true, noCache: true, dotfiles: true, tracebacks: true, listings: false });
  assert.equal(plan.workers, 4);
  assert.equal(plan.shutdownGraceMs, 2500);
});

test('-n after --tracebacks turns them off again', () => {
  assert.equal(resolveArgv(opts(['--tracebacks', true], ['-n', true]), env()).http.tracebacks, false);
});

test('a file root is flagged', () => {
  const plan = resolveArgv(opts(['--path', '/m/movie.mp4']), env({ '/m/movie.mp4': 'file' }));
  assert.equal(plan.servers[0]!.site.rootIsFile, true);
});

test('--shape and its companions build the server\'s shape plan', () => {
  const plan = resolveArgv(
    opts(['--shape-by', 'ip'], ['-s', '40Mbit,4Mbit'], ['--shape-ipv6-prefix', '64'], ['--client-id-header', 'X-Viewer-Id'], ['--shape-table-size', '1024'], ['--trust-proxy', 'loopback']),
    env(),
  );
  assert.deepEqual(plan.servers[0]!.shape, {
    limits: { server: { rate: 5_000_000, burst: 5_000_000 }, client: { rate: 500_000, burst: 500_000 } },
    by: 'ip',
    ipv6PrefixBits: 64,
    clientIdHeader: 'x-viewer-id',
    clientIdLimit: 1024,
    tableSize: 1024,
  });
  assert.equal(resolveArgv(opts(['--shape', '0']), env()).servers[0]!.shape, null, '0 limits nothing');
  assert.equal(resolveArgv(opts(['--shape', '100']), env()).servers[0]!.shape?.by, 'ip');
});

const errors: Array<[GivenOption[], Record<string, PathKind>, RegExp]> = [
  [opts(['--shape', '500k']), {}, /^--shape \(option 1\): server-rate "500k" is ambiguous/],
  [opts(['--shape-by', 'host'], ['--shape', '1']), {}, /^--shape-by \(option 1\): got "host", expected ip or connection/],
  [opts(['--shape-by', 'connection']), {}, /^--shape-by \(option 1\): --shape-by needs a shape \(--shape\) for the same server/],
  [opts(['--shape', '1'], ['--shape-by', 'connection'], ['--client-id-header', 'X-Id']), {}, /--client-id-header .*shaping by connection/],
  [opts(['--shape', '1'], ['--shape-table-size', '1000']), {}, /expected a power of two/],
  [opts(['--shape', '1'], ['--shape-ipv6-prefix', '129']), {}, /a prefix length from 0 to 128/],
  [opts(['--shape', '1'], ['--client-id-header', 'X Id']), {}, /is not a header name/],
  [opts(['--shape', '1'], ['--client-id-header', 'X-Id']), {}, /--client-id-header \(option 2\): any client could pick its own bucket: name who may set this header with --trust-proxy/],
  [opts(['--shape', '1'], ['--client-id-limit', '5'], ['--trust-proxy', 'loopback']), {}, /--client-id-limit \(option 2\): limits client ids, but none is read/],
  [opts(['--trust-proxy', '10.0.0.0/33']), {}, /--trust-proxy \(option 1\): "10.0.0.0\/33" is not an address, a CIDR/],
  [opts(['--trust-proxy', 'nowhere']), {}, /"nowhere" is not an address/],
  [opts(['--path', '/nope']), { '/nope': 'missing' }, /^--path \(option 1\): "\/nope" does not exist/],
  [opts(['--path', '/dev/null']), { '/dev/null': 'other' }, /neither a directory nor a regular file/],
  [opts(['--cors', true], ['--workers', '300']), {}, /^--workers \(option 2\): got "300"/],
  [opts(['--index', 'a/b']), {}, /not a plain file name/],
  [opts(['--mime-type', 'html']), {}, /not a media type/],
  [opts(['--ignore-ext', '.']), {}, /not a file extension/],
  [opts(['-p', '80'], ['--port', '81']), {}, /^--port \(option 2\): the first server's port is already set by -p \(option 1\)/],
  [opts(['--shutdown-timeout', '7200']), {}, /seconds from 0 to 3600/],
  [opts(['--nope', true]), {}, /unknown option/],
];
for (const [given, kinds, message] of errors) {
  test(`error: ${given.map((g) => g.name).join(' ')}`, () => {
    assert.throws(() => resolveArgv(given, env(kinds)), (error: unknown) => error instanceof ConfigError && message.test(error.message));
  });
}
