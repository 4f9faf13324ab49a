/**
 * A store on a real PostgreSQL, for tests of what it keeps in the database
 * (artifacts and sources as blobs): the server, the store opened on it with
 * its data directory in a scratch directory of its own, and a client of the
 * test's own to look at or change the tables under the store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { startPostgres, type TestPostgres } from './postgres.ts';

export interface PostgresStore {
  postgres: TestPostgres;
  store: Store;
  /** A client of its own on the store's database. */
  db: pg.Client;
  /** The scratch directory; the store's data directory is `dataDir` in it. */
  dir: string;
  /** Closes the client and the store, stops the server, removes the scratch directory. */
  stop(): Promise<void>;
}

/** `prefix` names the scratch directory; `dataDir` is the store's data directory in it. */
export async function startPostgresStore(prefix: string, dataDir: string): Promise<PostgresStore> {
  const postgres = await startPostgres();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  let store: Store | undefined;
  let db: pg.Client | undefined;
  const stop = async () => {
    await db?.end();
    await store?.close();
    await postgres.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    store = await openStore({ dataDir: join(dir, dataDir), databaseUrl: postgres.url });
    db = new pg.Client({ connectionString: postgres.url });
    await db.connect();
  } catch (error) {
    await stop();
    throw error;
  }
  return { postgres, store, db, dir, stop };
}
