/** What an operator sees when the configured database cannot be used. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { openStore } from '../../src/store/open-store.ts';
import { StoreError } from '../../src/store/store.ts';
import { freeLoopbackPort } from '../helpers/free-port.ts';

it('says which PostgreSQL it cannot reach, without the password', async (t) => {
  // A port that was free a moment ago: nothing listens there.
  const port = await freeLoopbackPort();
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-data-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));

  await assert.rejects(
    openStore({ dataDir, databaseUrl: `postgres://sluice:hunter2@127.0.0.1:${port}/sluice` }),
    (error) => {
      assert.ok(error instanceof StoreError);
      assert.equal(error.code, 'DATABASE_UNREACHABLE');
      assert.match(
        error.message,
        new RegExp(`PostgreSQL at postgres://sluice:\\*\\*\\*@127\\.0\\.0\\.1:${port}/sluice \\(DATABASE_URL\\)`),
      );
      assert.doesNotMatch(error.message, /hunter2/);
      return true;
    },
  );
});
