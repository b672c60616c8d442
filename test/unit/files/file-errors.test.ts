import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileErrorKind } from '../../../src/files/file-errors.js';
import { CHANGED } from '../../../src/files/safe-open.js';

test('filesystem errors: gone, forbidden, busy for now, or a real failure', () => {
  const kind = (code: string | undefined) => fileErrorKind(Object.assign(new Error('x'), code === undefined ? {} : { code }));
  assert.deepEqual(
    ['ENOENT', 'ENOTDIR', 'ELOOP', 'ENAMETOOLONG', 'ENOTFILE', CHANGED].map(kind),
    Array(6).fill('missing'),
  );
  assert.deepEqual(['EACCES', 'EPERM'].map(kind), ['forbidden', 'forbidden']);
  assert.deepEqual(['EMFILE', 'ENFILE', 'ENOMEM'].map(kind), ['busy', 'busy', 'busy']);
  assert.equal(kind('EIO'), null);
  assert.equal(kind(undefined), null);
  assert.equal(fileErrorKind(null), null);
});
