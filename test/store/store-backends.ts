/**
 * The two databases the store suite runs on. Each test gets a fresh place
 * (an empty data directory, or an empty PostgreSQL database) and may open
 * stores on it, and peek at its tables with plain SQL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';

export interface Place {
  /** Opens a store on this place (for PostgreSQL, another replica each time). */
  open(): Promise<Store>;
  /** Rows of a read-only query, bypassing the store. */
  peek(sql: string): Promise<Record<string, unknown>[]>;
  /** Runs statements that write, bypassing the store (with no store open on the place). */
  write(sql: string): Promise<void>;
  remove(): Promise<void>;
}

export interface StoreBackend {
  name: string;
  /** Whether two stores may be open on one place at once, as replicas. */
  replicas: boolean;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  fresh(): Promise<Place>;
}

export function sqliteBackend(): StoreBackend {
  return {
    name: 'SQLite',
    replicas: false,
    setup: async () => {},
    teardown: async () => {},
    fresh: async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'sluice-store-'));
      return {
        open: () => openStore({ dataDir }),
        peek: async (sql) => {
          const db = new DatabaseSync(join(dataDir, 'sluice.db'));
          try {
            return db
              .prepare(sql)
              .all()
              .map((row) => ({ ...row }));
          } finally {
            db.close();
          }
        },
        write: async (sql) => {
          const db = new DatabaseSync(join(dataDir, 'sluice.db'));
          try {
            db.exec(sql);
          } finally {
            db.close();
          }
        },
        remove: async () => rmSync(dataDir, { recursive: true, force: true }),
      };
    },
  };
}

export function postgresBackend(): StoreBackend {
  let server: TestPostgres | undefined;
  return {
    name: 'PostgreSQL',
    replicas: true,
    setup: async () => {
      server = await startPostgres();
    },
    teardown: async () => {
      await server?.stop();
    },
    fresh: async () => {
      if (!server) throw new Error('the PostgreSQL backend was not set up');
      const databaseUrl = await server.freshDatabase();
      const dataDir = mkdtempSync(join(tmpdir(), 'sluice-store-'));
      return {
        open: () => openStore({ dataDir, databaseUrl }),
        peek: async (sql) => {
          const client = new pg.Client({
            connectionString: databaseUrl,
            types: {
              getTypeParser: (oid, format) =>
                oid === pg.types.builtins.INT8 ? Number : pg.types.getTypeParser(oid, format),
            },
          });
          await client.connect();
          try {
            return (await client.query(sql)).rows;
          } finally {
            await client.end();
          }
        },
        write: async (sql) => {
          const client = new pg.Client({ connectionString: databaseUrl });
          await client.connect();
          try {
            await client.query(sql);
          } finally {
            await client.end();
          }
        },
        remove: async () => rmSync(dataDir, { recursive: true, force: true }),
      };
    },
  };
}
