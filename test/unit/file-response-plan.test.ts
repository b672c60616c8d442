import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planFileResponse, type FileFacts, type FileRequest } from '../../src/http/file-response-plan.js';
import { fileValidators } from '../../src/http/validators.js';

const file: FileFacts = {
  size: 100,
  validators: fileValidators(100, 1_700_000_000_123),
  contentType: 'video/mp2t',
  cacheControl: 'public, max-age=60',
};
const get: FileRequest = { range: '', ifRange: '', ifMatch: '', ifNoneMatch: '', ifModifiedSince: '', ifUnmodifiedSince: '' };

test('validators: strong ETag from size and mtime, Last-Modified to the second', () => {
  assert.equal(file.validators.etag, `"64-${(1_700_000_000_123).toString(16)}"`);
  assert.equal(file.validators.lastModified, 'Tue, 14 Nov 2023 22:13:20 GMT');
});

test('plain GET: 200 with every header and the whole body', () => {
  const plan = planFileResponse(get, file, false);
  assert.equal(plan.kind, 'body');
  assert.ok(plan.kind === 'body');
  assert.equal(plan.status, 200);
  assert.deepEqual(Object.fromEntries(plan.headers), {
    'Content-Type': 'video/mp2t',
    'Accept-Ranges': 'bytes',
    ETag: file.validators.etag,
    'Last-Modified': file.validators.lastModified,
    'Cache-Control': 'public, max-age=60',
  });
  assert.deepEqual([plan.start, plan.length], [0, 100]);
});

test('range: 206 with Content-Range', () => {
  const plan = planFileResponse({ ...get, range: 'bytes=10-19' }, file, false);
  assert.ok(plan.kind === 'body');
  assert.equal(plan.status, 206);
  assert.deepEqual([plan.start, plan.length], [10, 10]);
  assert.equal(Object.fromEntries(plan.headers)['Content-Range'], 'bytes 10-19/100');
});

test('unsatisfiable range: 416 with bytes */size', () => {
  const plan = planFileResponse({ ...get, range: 'bytes=100-' }, file, false);
  assert.deepEqual(plan, { kind: 'error', status: 416, headers: [['Content-Range', 'bytes */100'], ['Accept-Ranges', 'bytes']] });
});

test('If-Range mismatch ignores the range', () => {
  const plan = planFileResponse({ ...get, range: 'bytes=10-19', ifRange: '"old"' }, file, false);
  assert.ok(plan.kind === 'body' && plan.status === 200 && plan.length === 100);
});

test('order: 412 before 304 before range', () => {
  assert.equal(planFileResponse({ ...get, ifMatch: '"x"', ifNoneMatch: file.validators.etag }, file, false).kind, 'error');
  const notModified = planFileResponse({ ...get, ifNoneMatch: file.validators.etag, range: 'bytes=500-' }, file, false);
  assert.equal(notModified.kind, 'not-modified');
  assert.equal(planFileResponse({ ...get, ifNoneMatch: file.validators.etag }, file, true).kind, 'body');
});
