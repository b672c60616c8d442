/**
 * Seed-compatible multi-server command lines, the config file, and how the two combine.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { applyArgv, resolveArgv, type GivenOption } from '../../src/config/argv-plan.js';
import { parse as parseYaml } from 'yaml';
import { draftFromDocument, loadConfigFile } from '../../src/config/config-file.js';
import { planToDocument } from '../../src/config/config-print.js';
import { buildPlan, type BuildEnv } from '../../src/config/draft.js';
import { ConfigError } from '../../src/config/errors.js';

const env: BuildEnv = {
  cwd: '/srv',
  defaultWorkers: 2,
  statPath: (path) => (path.endsWith('.mp4') ? 'file' : path.includes('missing') ? 'missing' : 'directory'),
};

const FLAGS = new Set(['-u', '--user', '--cors', '--no-cache', '--allow-ignore-ext', '--dotfiles', '-n', '--print-config']);

/** argv tokens (as typed) to ordered options, as the command-line parser hands them over. */
function parse(argv: string): GivenOption[] {
  const tokens = argv.split(' ').filter(Boolean);
  const options: GivenOption[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const name = tokens[i]!;
    options.push(FLAGS.has(name) ? { name, value: true } : { name, value: tokens[++i]! });
  }
  return options;
}

function rejects(run: () => unknown, message: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof ConfigError, String(error));
    assert.match(error.message, message);
    return true;
  });
}

const SEED = '--path a -p 8080 -s 100000 -v one.local --path b -a media,videos -h 8081 --path c -v two.local --path d -i start.html';

test('the seed-style command line resolves to the expected tree', () => {
  const plan = resolveArgv(parse(SEED), env);
  assert.equal(plan.servers.length, 2);
  const [first, second] = plan.servers;
  assert.deepEqual(first!.listen, { kind: 'tcp', port: 8080 });
  assert.equal(first!.site.root, '/srv/a');
  assert.deepEqual(first!.site.aliases, []);
  assert.deepEqual(
    first!.vhosts.map((v) => [v.hostname, v.root, v.aliases, v.indexes]),
    [['one.local', '/srv/b', [{ from: ['media'], to: ['videos'] }], ['index', 'index.html']]],
  );
  assert.deepEqual(first!.shape?.limits, { server: { rate: 100_000, burst: 100_000 }, client: { rate: 100_000, burst: 100_000 } });
  assert.deepEqual(second!.listen, { kind: 'tcp', port: 8081 });
  assert.equal(second!.site.root, '/srv/c');
  assert.deepEqual(second!.site.indexes, ['index', 'index.html']);
  assert.deepEqual(
    second!.vhosts.map((v) => [v.hostname, v.root, v.indexes]),
    [['two.local', '/srv/d', ['start.html']]],
  );
  assert.equal(second!.shape, null, 'shaping applies to port 8080 only');
});

test('-u, -l and names: user dirs per site, the log path, host names normalised', () => {
  const plan = resolveArgv(parse('-l access.log -u -v Users.Example.COM. -u --path x -h 9000 -a media'), env);
  assert.equal(plan.logfile, '/srv/access.log');
  assert.deepEqual(plan.servers[0]!.site.userDirs, { passwd: '/etc/passwd', minUid: 1000 });
  assert.equal(plan.servers[0]!.vhosts[0]!.hostname, 'users.example.com');
  assert.equal(plan.servers[0]!.vhosts[0]!.root, '/srv/x');
  assert.deepEqual(plan.servers[1]!.site.aliases, [{ from: ['media'], to: [] }]);
  assert.equal(resolveArgv(parse('-l -'), env).logfile, '-');
});

test('command-line errors name the option, its position and the expected form', () => {
  const cases: Array<[string, RegExp]> = [
    ['-h 8081 -h 8081', /^-h 8081 \(option 2\): port 8081 is already used by -h 8081 \(option 1\)$/],
    ['-p 9000 -h 9000', /^-h 9000 \(option 2\): port 9000 is already used by -p \(option 1\)$/],
    ['-h 8080', /^-h 8080 \(option 1\): port 8080 is already used by the first server$/],
    ['-h http', /^-h \(option 1\): got "http", expected a port number from 1 to 65535$/],
    ['-v one.local -v ONE.local', /^-v \(option 2\): virtual host one.local is already declared for the first server by -v \(option 1\)$/],
    ['-v bad_name!', /^-v \(option 1\): "bad_name!" is not a host name \(expected e.g. host.domain.tld\)$/],
    ['-a ,videos', /^-a \(option 1\): empty virtual path \(expected e.g. media,videos\)$/],
    ['-a media,../etc', /^-a \(option 1\): "..\/etc": the real path must stay inside the root/],
    ['-a a,b,c', /has more than one comma/],
    ['-v x.local --path missing', /^--path \(option 2\): "\/srv\/missing" does not exist/],
  ];
  for (const [argv, message] of cases) rejects(() => resolveArgv(parse(argv), env), message);
});

let dir: string | undefined;
after(() => dir && rmSync(dir, { recursive: true, force: true }));

function configFile(name: string, text: string): string {
  dir ??= mkdtempSync(join(tmpdir(), 'mediacast-config-'));
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const SEED_AS_YAML = `
servers:
  - listen: 8080
    path: a
    shape: "100000"
    vhosts:
      - host: one.local
        path: b
        aliases: ["media,videos"]
  - listen: tcp:8081
    path: c
    vhosts:
      - host: two.local
        path: d
        indexes: [start.html]
`;

test('a config file equivalent to the command line gives the same tree', () => {
  const path = configFile('seed.yaml', SEED_AS_YAML);
  const fromFile = buildPlan(loadConfigFile(path), env);
  const fromArgv = resolveArgv(parse(SEED), { ...env, cwd: dir! });
  assert.deepEqual(fromFile, fromArgv);
});

test('JSON config with every kind of key', () => {
  const path = configFile(
    'full.json',
    JSON.stringify({
      workers: 3,
      shutdownTimeout: 2.5,
      cors: true,
      noCache: true,
      logfile: 'logs/access.log',
      servers: [
        {
          listen: 'tcp:0:interface=127.0.0.1',
          path: '/media',
          indexes: ['index.m3u8'],
          mimeType: 'video/f4f',
          ignoreExts: ['.m3u8'],
          allowIgnoreExt: true,
          aliases: [{ path: 'live', target: 'streams/live' }],
          userDirs: { passwd: 'passwd' },
          shape: { serverRate: '40Mbit', clientRate: 500000, clientBurst: '-' },
          shapeBy: 'ip',
          shapeIpv6Prefix: 64,
          clientIdHeader: 'X-Viewer',
          clientIdLimit: 64,
          trustProxy: ['10.0.0.0/8', 'LOOPBACK'],
          shapeTableSize: 1024,
        },
      ],
    }),
  );
  const plan = buildPlan(loadConfigFile(path), env);
  assert.equal(plan.workers, 3);
  assert.equal(plan.shutdownGraceMs, 2500);
  assert.deepEqual(plan.http, { cors: true, noCache: true, dotfiles: false, tracebacks: false, listings: true });
  assert.equal(plan.logfile, join(dir!, 'logs/access.log'));
  const server = plan.servers[0]!;
  assert.deepEqual(server.listen, { kind: 'tcp', port: 0, host: '127.0.0.1' });
  assert.deepEqual(server.site, {
    root: '/media',
    rootIsFile: false,
    indexes: ['index.m3u8'],
    defaultType: 'video/f4f',
    ignoreExts: ['m3u8', '*'],
    aliases: [{ from: ['live'], to: ['streams', 'live'] }],
    userDirs: { passwd: join(dir!, 'passwd'), minUid: 1000 },
    proxies: [],
  });
  assert.deepEqual(server.shape, {
    limits: { server: { rate: 5_000_000, burst: 5_000_000 }, client: { rate: 500_000, burst: 500_000 } },
    by: 'ip',
    ipv6PrefixBits: 64,
    clientIdHeader: 'x-viewer',
    clientIdLimit: 64,
    tableSize: 1024,
  });
});

test('config file errors point at the key path', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['typo.json', '{"servers":[{"pth":"x"}]}', /^typo.json: servers\[0\].pth: unknown key \(got "x"\)$/],
    ['type.json', '{"workers":"two"}', /^type.json: workers: expected a number \(got "two"\)$/],
    ['range.json', '{"workers":0}', /^range.json: workers: got "0", expected a whole number of threads from 1 to 256$/],
    ['listen.json', '{"servers":[{"listen":"tcp:99999"}]}', /^listen.json: servers\[0\].listen: port "99999" is not a number/],
    ['shape.json', '{"servers":[{"shape":{"clientRate":"500k"}}]}', /^shape.json: servers\[0\].shape: clientRate "500k" is ambiguous/],
    ['missing.json', '{"servers":[{},{"listen":81,"vhosts":[{"host":"a.b","path":"missing"}]}]}', /^missing.json: servers\[1\].vhosts\[0\].path: ".*missing" does not exist/],
    ['dup.json', '{"servers":[{"listen":81},{"listen":"tcp:81"}]}', /^dup.json: servers\[1\].listen: port 81 is already used by dup.json: servers\[0\].listen$/],
    ['host.json', '{"servers":[{"vhosts":[{"path":"x"}]}]}', /^host.json: servers\[0\].vhosts\[0\].host: expected a string/],
    ['broken.json', '{"servers": [', /^broken.json: not valid JSON/],
    ['broken.yaml', 'servers: [\n', /^broken.yaml: not valid YAML/],
    ['none.json', '{"servers":[]}', /^none.json: servers: is empty: nothing would listen/],
    ['part.json', '{"servers":[{"shape":{"serverRate":"1MB","clientRat":5}}]}', /^part.json: servers\[0\].shape.clientRat: unknown key \(got 5\)$/],
    ['vpart.json', '{"servers":[{"vhosts":[{"host":"a.b","shape":{"rate":1}}]}]}', /^vpart.json: servers\[0\].vhosts\[0\].shape.rate: unknown key/],
    ['comma.json', '{\n  "workers": 2,\n  "servers": [\n    {"path": "x",}\n  ]\n}\n', /^comma.json: not valid JSON: Expected double-quoted property name at line 4, column 18$/],
    ['indent.yaml', 'workers: 2\n  cors: true\n', /^indent.yaml: not valid YAML: .* at line 1, column 10$/],
    ['token.json', '{\n  "servers": [\n    {"path": tru }\n  ]\n}\n', /^token.json: not valid JSON: Unexpected token ' ' near line 3$/],
  ];
  for (const [name, text, message] of cases) rejects(() => buildPlan(loadConfigFile(configFile(name, text)), env), message);
  rejects(() => loadConfigFile('/nonexistent/mediacast.json'), /^--config: cannot read \/nonexistent\/mediacast.json: no such file$/);
});

test('a shape may be a plain number of bytes per second, as on the command line', () => {
  const plan = buildPlan(loadConfigFile(configFile('number.json', '{"servers":[{"shape":100000,"vhosts":[{"host":"a.b","shape":"50kB"}]}]}')), env);
  assert.equal(plan.servers[0]!.shape?.limits.server.rate, 100_000);
  assert.equal(plan.servers[0]!.vhosts[0]!.shape?.limits.server.rate, 50_000);
});

test('command-line options extend or override the file; -h and -v select the file\'s server and vhost', () => {
  const path = configFile(
    'base.yaml',
    `
cors: true
servers:
  - listen: 8080
    path: /a
    indexes: [one.html]
    vhosts:
      - host: one.local
        path: /b
  - listen: 8081
    path: /c
`,
  );
  const draft = loadConfigFile(path);
  applyArgv(draft, parse('--no-cache -i two.html -v one.local -a media,videos -h 8081 --path /d -h 8082 --path /e'), '/cwd');
  const plan = buildPlan(draft, env);
  assert.deepEqual(plan.http, { cors: true, noCache: true, dotfiles: false, tracebacks: false, listings: true });
  assert.deepEqual(plan.servers[0]!.site.indexes, ['one.html', 'two.html'], 'lists extend');
  assert.deepEqual(plan.servers[0]!.vhosts[0]!.aliases, [{ from: ['media'], to: ['videos'] }], '-v one.local selected the file vhost');
  assert.equal(plan.servers[1]!.site.root, '/d', '-h 8081 selected the file server; --path overrides');
  assert.equal(plan.servers.length, 3);
  assert.equal(plan.servers[2]!.site.root, '/e');
});

test('--print-config output loads back into the same plan', () => {
  const plan = resolveArgv(
    parse(`${SEED} -l /var/log/m.log --cors -h 9000 -u --ignore-ext .ts --allow-ignore-ext -s 40Mbit,4Mbit --shape-by connection`),
    env,
  );
  const document = JSON.parse(JSON.stringify(planToDocument(plan)));
  assert.deepEqual(buildPlan(draftFromDocument(document, 'printed.json', '/elsewhere'), env), plan);
});

test('the config file example in README.md is valid', () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const example = /```yaml\n# mediacast.yaml\n([^]*?)```/.exec(readme)?.[1];
  assert.ok(example, 'README has a mediacast.yaml example');
  const plan = buildPlan(draftFromDocument(parseYaml(example), 'mediacast.yaml', '/etc/mediacast'), env);
  assert.equal(plan.servers.length, 2);
  assert.deepEqual(plan.servers[0]!.site.aliases, [{ from: ['media'], to: ['videos'] }]);
  assert.equal(plan.servers[0]!.vhosts[0]!.hostname, 'one.local');
  assert.deepEqual(plan.servers[1]!.site.userDirs, { passwd: '/etc/passwd', minUid: 1000 });
  assert.deepEqual(plan.servers[1]!.site.proxies, [{ upstream: 0, mount: '/live' }]);
  assert.deepEqual(plan.upstreams[0], { id: 0, scheme: 'http', host: 'packager.lan', port: 8000, path: '/live' });
});

test('-s after -v gives that virtual host its own limits, inside the server\'s', () => {
  const plan = resolveArgv(parse('--path a -s 1MB -v one.local --path b -s 100kB,20kB -v two.local --path c --shape-by connection'), env);
  const server = plan.servers[0]!;
  assert.deepEqual(server.shape?.limits, { server: { rate: 1_000_000, burst: 1_000_000 }, client: { rate: 1_000_000, burst: 1_000_000 } });
  assert.deepEqual(server.vhosts[0]!.shape?.limits, { server: { rate: 100_000, burst: 100_000 }, client: { rate: 20_000, burst: 20_000 } });
  assert.equal(server.vhosts[0]!.shape?.by, 'connection', 'companions are the server\'s');
  assert.equal(server.vhosts[1]!.shape, null);
  // A virtual host may be limited on a server that is not.
  const only = resolveArgv(parse('--path a -v one.local --path b -s 50kB'), env).servers[0]!;
  assert.equal(only.shape, null);
  assert.equal(only.vhosts[0]!.shape?.limits.server.rate, 50_000);
  // Printed and read back: the same plan.
  const printed = planToDocument(resolveArgv(parse('--path a -v one.local --path b -s 50kB --shape-by connection'), env));
  const again = buildPlan(draftFromDocument(printed, 'printed.json', '/'), env);
  assert.equal(again.servers[0]!.vhosts[0]!.shape?.limits.server.rate, 50_000);
  assert.equal(again.servers[0]!.vhosts[0]!.shape?.by, 'connection');
});

test('--path, -s and -m given twice for one server or virtual host are errors naming both', () => {
  rejects(() => resolveArgv(parse('--path a --path b'), env), /^--path \(option 2\): the first server already has --path \(option 1\)/);
  rejects(() => resolveArgv(parse('-s 1MB -v one.local -s 1kB -s 2kB'), env), /^-s \(option 4\): virtual host one.local already has -s \(option 3\)/);
  rejects(() => resolveArgv(parse('-m video/f4f -m video/mp4'), env), /-m \(option 2\): .* already has -m \(option 1\)/);
  // Once per scope: the server and each of its virtual hosts have their own.
  assert.equal(resolveArgv(parse('--path a -v one.local --path b -h 8081 --path c'), env).servers.length, 2);
});
