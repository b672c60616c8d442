/**
 * The command line: bad values exit 2 with one line naming the option; environment problems
 * exit 1 with one line; --help documents every option with an example.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { optionUsage } from '../../src/cli/manual.js';
import { canonicalName, SERVE_OPTIONS } from '../../src/config/option-table.js';
import { runCli } from '../helpers/server-process.js';

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

function assertOneLine(stderr: string): string {
  const lines = stderr.split('\n').filter((line) => line !== '' && !line.startsWith('npm '));
  assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`);
  assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
  return lines[0]!;
}

describe('bad option values exit 2 with one line', { concurrency: 2 }, () => {
  const cases: Array<[string[], RegExp]> = [
    [['--workers', '0'], /^mediacast: --workers \(option 1\): got "0", expected a whole number of threads from 1 to 256$/],
    [['--workers', 'many'], /--workers .*got "many"/],
    [['-p', 'tcp:99999'], /^mediacast: -p \(option 1\): port "99999" is not a number from 0 to 65535/],
    [['-p', 'ftp:21'], /-p .*unknown listen type "ftp" \(known: tcp, ssl, unix\)/],
    [['-p', 'tcp:8080:color=blue'], /unknown parameter "color"/],
    [['-p', 'tcp:8080:interface='], /interface "" is not an address or host name/],
    [['-p', 'unix:/tmp/x.sock:mode=999'], /mode "999" is not an octal permission/],
    [['--path', '/nonexistent/media'], /^mediacast: --path \(option 1\): "\/nonexistent\/media" does not exist/],
    [['--mime-type', 'not a type'], /--mime-type .*"not a type" is not a media type \(expected e.g. video\/f4f\)/],
    [['-i', '../index.html'], /-i .*is not a plain file name/],
    [['--ignore-ext', ''], /--ignore-ext .*is not a file extension/],
    [['--shutdown-timeout', '-1'], /--shutdown-timeout/],
    [['--path'], /^mediacast: --path: missing value/],
    [["--frobnicate"], /^mediacast: unknown option --frobnicate \(see mediacast --help\)$/],
    [["--dotflies"], /unknown option --dotflies; did you mean --dotfiles\?/],
    [["--path", "a", "foo"], /unexpected argument "foo": every value belongs to an option/],
    [["-n", "mediacastserver", "--path", "."], /"mediacastserver" belongs to a twistd command line/],
    [["--cors=yes"], /--cors takes no value \(got "yes"\)/],
    [["--reverse=example.com,99999"], /^mediacast: --reverse \(option 1\): port "99999" is not a port number from 1 to 65535$/],
    [["--reverse", "example.com,80,a/../b"], /the upstream path "a\/..\/b" must be plain path segments/],
    [["--reverse", "origin,80,,cdn", "--reverse", "https://cdn.example.com/x,,,cdn"], /--reverse \(option 2\): the path \/cdn of this server or virtual host is already proxied by --reverse \(option 1\)/],
    [["--reverse", "https://cdn.example.com/x,8080"], /the URL already gives the port and path/],
    [["--monster", "/"], /^mediacast: --monster \(option 1\): the vhost monster path is empty/],
    [["--proxy-timeout", "0"], /a timeout of 0 s would fail every request/],
    [['-p', '8080', '-p', '9090'], /-p \(option 2\): the first server's port is already set by -p \(option 1\)/],
    [['-h', '8081', '--path', '.', '-h', '8081'], /^mediacast: --host 8081 \(option 3\): port 8081 is already used by --host 8081 \(option 1\)$/],
    [['-v', 'one.local', '-v', 'one.local'], /virtual host one.local is already declared/],
    [['-a', '../x'], /^mediacast: -a \(option 1\): "..\/x": the virtual path must stay inside the root/],
    [['--path', '/tmp', '-a', 'media,no-such-dir-here'], /^mediacast: -a \(option 2\): the alias target "\/tmp\/no-such-dir-here" does not exist$/],
    [['--config', '/nonexistent/m.yaml'], /^mediacast: --config: cannot read \/nonexistent\/m.yaml: no such file$/],
  ];
  for (const [args, message] of cases) {
    test(args.join(' '), async () => {
      const { code, stdout, stderr } = await runCli(args);
      assert.equal(code, 2, stderr);
      assert.equal(stdout, '');
      assert.match(assertOneLine(stderr), message);
    });
  }
});

describe('environment problems exit 1 with one line', () => {
  test('port in use', async () => {
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const port = (blocker.address() as { port: number }).port;
    try {
      const { code, stderr } = await runCli(['-p', `tcp:${port}:interface=127.0.0.1`, '--workers', '1']);
      assert.equal(code, 1);
      assert.match(assertOneLine(stderr), new RegExp(`^mediacast: cannot listen on 127.0.0.1 port ${port}: the port is already in use$`));
    } finally {
      blocker.close();
    }
  });

  test('missing certificate', async () => {
    const { code, stderr } = await runCli(['-p', 'ssl:0:privateKey=/nonexistent/key.pem:interface=127.0.0.1']);
    assert.equal(code, 1);
    assert.match(assertOneLine(stderr), /^mediacast: ssl privateKey: cannot read \/nonexistent\/key.pem$/);
  });

  test('ssl: a key file without a key, a certificate file without a certificate, a key of another certificate', { skip: !hasOpenssl && 'openssl is not installed' }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mediacast-pem-'));
    try {
      const pem = (name: string): [string, string] => {
        const key = join(dir, `${name}-key.pem`);
        const cert = join(dir, `${name}-cert.pem`);
        execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
        return [key, cert];
      };
      const [key, cert] = pem('a');
      const [otherKey] = pem('b');
      const run = async (desc: string): Promise<string> => {
        const { code, stderr } = await runCli(['--path', dir, '-p', `ssl:0:${desc}:interface=127.0.0.1`]);
        assert.equal(code, 1, stderr);
        return assertOneLine(stderr);
      };
      assert.match(await run(`privateKey=${cert}`), /^mediacast: ssl: privateKey .*a-cert\.pem holds no private key in PEM form/);
      assert.match(await run(`privateKey=${key}:certKey=${key}`), /^mediacast: ssl: certKey .*a-key\.pem holds no certificate in PEM form$/);
      assert.match(await run(`privateKey=${otherKey}:certKey=${cert}`), /^mediacast: ssl: the private key in .*b-key\.pem does not belong to the certificate in .*a-cert\.pem$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('unix: a socket in a directory that does not exist', async () => {
    const { code, stderr } = await runCli(['-p', 'unix:/nonexistent/dir/media.sock']);
    assert.equal(code, 1);
    assert.match(assertOneLine(stderr), /^mediacast: cannot listen on unix:\/nonexistent\/dir\/media\.sock: the directory \/nonexistent\/dir does not exist$/);
  });

  test('unreadable root', async (t) => {
    if (process.getuid?.() === 0) {
      t.skip('running as root: permissions cannot make a directory unreadable');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'mediacast-unreadable-'));
    chmodSync(dir, 0o000);
    try {
      const { code, stderr } = await runCli(['--path', dir, '-p', 'tcp:0:interface=127.0.0.1']);
      assert.equal(code, 1);
      assert.match(assertOneLine(stderr), /cannot read the root .*: permission denied/);
    } finally {
      chmodSync(dir, 0o700);
      rmSync(dir, { recursive: true });
    }
  });
});

describe('--print-config', () => {
  test('prints the effective configuration as JSON a --config file accepts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mediacast-print-'));
    mkdirSync(join(dir, 'videos'));
    try {
      const printed = await runCli(['--path', dir, '-s', '4Mbit', '-v', 'one.local', '--path', dir, '-a', 'media,videos', '-h', '8081', '--admin', 'tcp:9091:interface=127.0.0.1', '--print-config'], { cwd: dir });
      assert.equal(printed.code, 0, printed.stderr);
      const document = JSON.parse(printed.stdout);
      assert.equal(document.servers.length, 2);
      assert.deepEqual(document.servers[0].vhosts[0].aliases, [{ path: 'media', target: 'videos' }]);
      assert.equal(document.admin, 'tcp:9091:interface=127.0.0.1');
      writeFileSync(join(dir, 'printed.json'), printed.stdout);
      const again = await runCli(['--config', 'printed.json', '--print-config'], { cwd: dir });
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(JSON.parse(again.stdout), document);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  test('config file errors exit 2 naming the file and key path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mediacast-badconf-'));
    try {
      writeFileSync(join(dir, 'bad.yaml'), 'servers:\n  - listen: 8080\n    vhosts:\n      - host: one.local\n        path: nowhere\n');
      const { code, stdout, stderr } = await runCli(['--config', 'bad.yaml'], { cwd: dir });
      assert.equal(code, 2);
      assert.equal(stdout, '');
      assert.match(assertOneLine(stderr), /^mediacast: bad.yaml: servers\[0\].vhosts\[0\].path: ".*nowhere" does not exist/);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});

describe('help and version', () => {
  test('--help lists every option with its value form and an example, within 100 columns, with exit codes and signals', async () => {
    const { code, stdout } = await runCli(['--help']);
    assert.equal(code, 0);
    const lines = stdout.split('\n');
    assert.match(stdout, /^Usage: mediacast \[serve\] \[options\]$/m);
    assert.deepEqual(lines.filter((l) => l.length > 100), [], 'lines over 100 columns');
    assert.doesNotMatch(stdout, /#0/, 'no placeholder instead of a value form');
    for (const spec of SERVE_OPTIONS) {
      const at = lines.findIndex((l) => l.startsWith(`  ${optionUsage(spec)}`));
      assert.ok(at >= 0, `${optionUsage(spec)} missing from --help`);
      // Its example lines follow, before the next option.
      const next = lines.findIndex((l, i) => i > at && /^  -/.test(l));
      assert.ok(lines.slice(at, next).some((l) => /^\s+e\.g\. /.test(l)), `${canonicalName(spec)} has no example`);
    }
    assert.match(stdout, /^Exit status:\n  0 [^]*?\n  1 [^]*?\n  2 /m);
    assert.match(stdout, /^  SIGHUP +reopen the access log/m);
    assert.match(stdout, /original Mediacast Server \(a Python\/Twisted twistd plugin/, 'says what "the original" is');
    // --help wins over anything else on the line.
    assert.equal((await runCli(['--path', '/nonexistent', '--help'])).code, 0);
  });

  test('the man page is built from the same table', () => {
    const page = readFileSync(new URL('../../man/mediacast.1', import.meta.url), 'utf8');
    assert.match(page, /^\.TH MEDIACAST 1 /);
    for (const spec of SERVE_OPTIONS) assert.ok(page.includes(`\\fB${canonicalName(spec).replace(/-/g, '\\-')}\\fR`), `${canonicalName(spec)} missing from the man page`);
    assert.match(page, /^\.SH EXIT STATUS$/m);
  });

  test('--version prints the version', async () => {
    const { code, stdout } = await runCli(['--version']);
    assert.equal(code, 0);
    assert.match(stdout.trim(), /^\d+\.\d+\.\d+$/);
  });
});
