/** Values read from files at startup: --shape-schedule (its forms, a file or the steps, its errors) and --admin-token-file, with the --print-config round trip. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { resolveArgv, type GivenOption } from '../../src/config/argv-plan.js';
import { draftFromDocument } from '../../src/config/config-file.js';
import { planToDocument } from '../../src/config/config-print.js';
import { buildPlan, type BuildEnv } from '../../src/config/draft.js';
import { ConfigError } from '../../src/config/errors.js';
import { parseShapeSchedule } from '../../src/config/shape-schedule.js';

const dir = mkdtempSync(join(tmpdir(), 'mediacast-shape-schedule-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const env: BuildEnv = { cwd: dir, defaultWorkers: 1, statPath: () => 'directory' };
const options = (...pairs: Array<[string, string]>): GivenOption[] => pairs.map(([name, value]) => ({ name, value }));

test('steps or a file; per-client: and once: prefixes; a relative file against the base', () => {
  writeFileSync(join(dir, 'lte.down'), '0\n5\n10\n');
  const steps = parseShapeSchedule('0s:4Mbit,30s:1Mbit', '--shape-schedule', dir);
  assert.deepEqual([steps.target, steps.loop, steps.schedule.format, steps.spec], ['server', true, 'steps', '0s:4Mbit,30s:1Mbit']);
  const trace = parseShapeSchedule('per-client:once:lte.down', '--shape-schedule', dir);
  assert.deepEqual([trace.target, trace.loop, trace.schedule.format, trace.spec], ['clients', false, 'mahimahi', `per-client:once:${join(dir, 'lte.down')}`]);
  assert.throws(() => parseShapeSchedule('per-client:', 'x', dir), /expected a schedule file or steps/);
  assert.throws(() => parseShapeSchedule('traces/none.down', 'x', dir), /"traces\/none\.down" \(no such file, so read as steps\): /);
  writeFileSync(join(dir, 'bad.json'), '{"nope": 1}');
  assert.throws(() => parseShapeSchedule('bad.json', 'x', dir), (error: unknown) => error instanceof ConfigError && error.message.includes(join(dir, 'bad.json')));
});

test('it needs a --shape of the server, once per server; per-client needs clients; --print-config gives it back', () => {
  assert.throws(() => resolveArgv(options(['--shape-schedule', '0s:1MB']), env), /a schedule drives a limit of --shape/);
  assert.throws(
    () => resolveArgv(options(['--shape', '10MB'], ['--shape-by', 'connection'], ['--shape-schedule', 'per-client:0s:1MB']), env),
    /per-client: shaping by connection/,
  );
  assert.throws(() => resolveArgv(options(['--shape', '10MB'], ['--shape-schedule', '0s:1MB'], ['-v', 'a.b'], ['--shape-schedule', '0s:2MB']), env), /already has --shape-schedule/);
  const plan = resolveArgv(options(['--shape', '10MB,1MB'], ['--shape-schedule', 'per-client:0s:1MB,10s~2MB']), env);
  assert.equal(plan.servers[0]!.shapeSchedule?.target, 'clients');
  const document = JSON.parse(JSON.stringify(planToDocument(plan)));
  assert.equal(document.servers[0].shapeSchedule, 'per-client:0s:1MB,10s~2MB');
  assert.deepEqual(buildPlan(draftFromDocument(document, 'printed.json', dir), env), plan);
});

test('--admin-token-file: the token from its first line, never printed; --print-config names the file; bad files named', () => {
  const file = join(dir, 'token');
  writeFileSync(file, '  file-token-123  \nignored\n');
  const plan = resolveArgv(options(['--admin', 'tcp:9090:interface=127.0.0.1'], ['--admin-token-file', file]), env);
  assert.equal(plan.admin?.token, 'file-token-123');
  const document = JSON.parse(JSON.stringify(planToDocument(plan)));
  assert.equal(document.adminTokenFile, file);
  assert.doesNotMatch(JSON.stringify(document), /file-token-123/);
  assert.deepEqual(buildPlan(draftFromDocument(document, 'printed.json', dir), env), plan);
  writeFileSync(file, 'short\n');
  assert.throws(() => resolveArgv(options(['--admin', 'tcp:9090'], ['--admin-token-file', file]), env), /expected at least 8 visible ASCII characters/);
  assert.throws(() => resolveArgv(options(['--admin', 'tcp:9090'], ['--admin-token-file', dir]), env), /is not a regular file/);
  assert.throws(() => resolveArgv(options(['--admin', 'tcp:9090'], ['--admin-token-file', join(dir, 'none')]), env), /cannot read .*none \(ENOENT\)/);
});
