/** An execution's source reference: a path, or the JSON Sluice wrote; anything else is a damaged row, said as one. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatSource, parseSource } from '../../src/artifact/source-ref.ts';
import { messageForPeople } from '../../src/sluice-error.ts';
import { StoreError } from '../../src/store/store.ts';

test('a source reference reads back as it was written', () => {
  assert.deepEqual(parseSource('/data/sources/a.tar.gz'), { file: '/data/sources/a.tar.gz', strip: 0 });
  assert.deepEqual(parseSource(formatSource({ file: '/data/sources/b.tar.gz', strip: 1 })), {
    file: '/data/sources/b.tar.gz',
    strip: 1,
  });
  assert.deepEqual(parseSource(formatSource({ sha256: 'ab'.repeat(32), strip: 1 })), {
    sha256: 'ab'.repeat(32),
    strip: 1,
  });
});

test('a damaged source reference is a StoreError that says so and what to do, whether JSON or not', () => {
  for (const text of ['{"sha256":', '{"file":3,"strip":1}', '{}']) {
    assert.throws(
      () => parseSource(text),
      (error: unknown) => {
        assert.ok(error instanceof StoreError, String(error));
        assert.equal(error.code, 'CORRUPT_ROW');
        assert.equal(
          messageForPeople(error),
          `Unreadable source reference: ${text}. The execution's row in the store is damaged: restore it from a backup`,
        );
        return true;
      },
    );
  }
});
