/**
 * PostgreSQL restarting while Sluice holds a connection between two queries
 * of a transaction: the server's "terminating connection due to
 * administrator command" arrives with no query to fail, and pg emits it as
 * an 'error' event on the client. Nobody listening would crash the service;
 * instead the transaction's next query fails, and the store works again
 * once the server is back.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';

let postgres: TestPostgres;
let store: Store;
const dir = mkdtempSync(join(tmpdir(), 'sluice-pg-drop-'));

before(async () => {
  postgres = await startPostgres();
  store = await openStore({ dataDir: dir, databaseUrl: postgres.url });
});

after(async () => {
  await store?.close();
  await postgres?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a server restart between two queries of a transaction fails the transaction, not the process', async () => {
  await assert.rejects(
    store.transaction(async (concerns) => {
      await concerns.listExecutions({ limit: 1 });
      // The connection is checked out, with no query running on it, as the server goes down.
      await postgres.halt();
      await concerns.listExecutions({ limit: 1 });
    }),
  );
  await postgres.resume();
  assert.deepEqual(await store.listExecutions({ limit: 1 }), [], 'the store works again once the server is back');
});
