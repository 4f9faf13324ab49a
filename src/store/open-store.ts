/**
 * Opens the store the operator configured: PostgreSQL when a database URL is
 * given (replicas share it, PRODUCT R2), otherwise SQLite in the data
 * directory, which then belongs to this process alone (PRODUCT R1).
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Kysely, PostgresDialect } from 'kysely';
import type { DatabaseKind, Database } from './database.ts';
import { makeKyselyStore } from './make-kysely-store.ts';
import { lockDataDir } from './lock-data-dir.ts';
import { migrateToLatest } from './migrate-to-latest.ts';
import { NodeSqliteDialect } from './node-sqlite-dialect.ts';
import { StoreError, type Store } from './store.ts';
import { errorMessage } from '../sluice-error.ts';

export interface OpenStoreOptions {
  /** Where the embedded database lives (`SLUICE_DATA_DIR`, default `./data`). */
  dataDir: string;
  /** A PostgreSQL URL (`DATABASE_URL`); when set, the data directory holds no database. */
  databaseUrl?: string;
}

/** A migrated, ready store. Throws `StoreError` with what to fix when it cannot be opened. */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  return options.databaseUrl ? openPostgres(options.databaseUrl) : openSqlite(options.dataDir);
}

async function openSqlite(dataDir: string): Promise<Store> {
  const dir = resolve(dataDir);
  const lock = usable(dir, () => {
    mkdirSync(dir, { recursive: true });
    return lockDataDir(dir);
  });
  const path = join(dir, 'sluice.db');
  try {
    const db = await ready(
      new Kysely<Database>({ dialect: new NodeSqliteDialect(usable(dir, () => openSqliteFile(path))) }),
      'sqlite',
      path,
    );
    return makeKyselyStore(db, 'sqlite', async () => lock.release());
  } catch (error) {
    lock.release();
    throw error;
  }
}

/**
 * Runs `open` on the data directory; what the system refuses there (a file
 * in its place, no write permission, a read-only disk) comes back naming
 * the directory and the setting that chose it, not as SQLite's bare
 * "unable to open database file".
 */
function usable<T>(dir: string, open: () => T): T {
  try {
    return open();
  } catch (error) {
    if (error instanceof StoreError) throw error;
    const why = errorMessage(error);
    throw new StoreError(
      'DATA_DIR_UNUSABLE',
      `The data directory ${dir} cannot be used (${why}): it must be a directory this user (uid ${process.getuid?.() ?? '?'}) can write to. Create it or fix its owner, or choose another with SLUICE_DATA_DIR / --data-dir.`,
      { cause: error },
    );
  }
}

function openSqliteFile(path: string): DatabaseSync {
  const database = new DatabaseSync(path, { timeout: 5000 });
  try {
    // WAL with synchronous=FULL syncs the log on every commit: an acknowledged
    // change survives kill -9 and power loss (PRODUCT R3).
    database.exec('PRAGMA journal_mode = WAL');
    database.exec('PRAGMA synchronous = FULL');
    database.exec('PRAGMA foreign_keys = ON');
    database.exec('PRAGMA busy_timeout = 5000');
    return database;
  } catch (error) {
    database.close();
    throw error;
  }
}

async function openPostgres(url: string): Promise<Store> {
  const where = redact(url);
  // Loaded only for PostgreSQL: the embedded default never needs the client.
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({
    connectionString: url,
    // Without these a blackholed server hangs start-up forever and a dead peer goes unnoticed.
    connectionTimeoutMillis: 30_000,
    keepAlive: true,
    // Times and counts are int8; pg hands those over as strings unless told otherwise.
    types: {
      getTypeParser: (oid, format) => (oid === pg.types.builtins.INT8 ? Number : pg.types.getTypeParser(oid, format)),
    },
  });
  // A connection dropped by the server (a restart: "terminating connection due to administrator command")
  // must not crash the process, idle in the pool or checked out between two queries of a transaction:
  // pg emits 'error' on the client then, with nobody listening. The next query on it fails instead.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => {});
    const why = errorMessage(error);
    throw new StoreError(
      'DATABASE_UNREACHABLE',
      `Cannot connect to PostgreSQL at ${where} (DATABASE_URL): ${why}. Check that the server is running and that the URL, user and password are right.`,
      { cause: error },
    );
  }
  const db = await ready(new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), 'postgres', where);
  return makeKyselyStore(db, 'postgres');
}

/** Migrates; on failure closes the database before passing the error on. */
async function ready(db: Kysely<Database>, kind: DatabaseKind, where: string): Promise<Kysely<Database>> {
  try {
    await migrateToLatest(db, kind, where);
    return db;
  } catch (error) {
    await db.destroy().catch(() => {});
    throw error;
  }
}

/** The URL without its password, for messages. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'the configured DATABASE_URL';
  }
}
