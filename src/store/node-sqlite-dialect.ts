/**
 * Kysely's SQLite dialect over Node's built-in `node:sqlite`. Kysely expects
 * a better-sqlite3-like database; `wrapDatabase` supplies exactly the subset
 * it uses (see SqliteDatabase in kysely).
 */
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import { SqliteAdapter, SqliteDialect, type DialectAdapter, type SqliteDatabase, type SqliteStatement } from 'kysely';

/** SQLite runs DDL inside transactions; saying so makes each migration all-or-nothing after a crash. */
class TransactionalSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

/** The SQLite dialect for a `node:sqlite` database that Kysely then owns (and closes). */
export class NodeSqliteDialect extends SqliteDialect {
  constructor(database: DatabaseSync) {
    super({ database: wrapDatabase(database) });
  }

  override createAdapter(): DialectAdapter {
    return new TransactionalSqliteAdapter();
  }
}

// Statements are compiled once per distinct SQL text; the store issues a few dozen shapes.
const STATEMENT_CACHE_SIZE = 200;

function wrapDatabase(database: DatabaseSync): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => database.close(),
    prepare(sql: string): SqliteStatement {
      if (sql === 'rollback') return rollbackIfOpen(database);
      let statement = cache.get(sql);
      if (!statement) {
        statement = wrapStatement(database.prepare(sql));
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
        cache.set(sql, statement);
      }
      return statement;
    },
  };
}

/**
 * SQLite rolls a transaction back by itself on some errors (SQLITE_FULL,
 * SQLITE_IOERR, SQLITE_NOMEM); Kysely's ROLLBACK after that would fail with
 * "no transaction is active" and hide the error that says what happened
 * (a full disk). Rolling back only what is still open keeps that error.
 */
function rollbackIfOpen(database: DatabaseSync): SqliteStatement {
  return {
    reader: false,
    all: () => [],
    run: () => (database.isTransaction ? database.prepare('rollback').run() : { changes: 0, lastInsertRowid: 0 }),
    iterate: () => [][Symbol.iterator](),
  };
}

function wrapStatement(statement: StatementSync): SqliteStatement {
  return {
    // A statement that yields columns (SELECT, or anything with RETURNING) is read with all().
    reader: statement.columns().length > 0,
    all: (parameters) => statement.all(...toSqlite(parameters)),
    run: (parameters) => statement.run(...toSqlite(parameters)),
    iterate: (parameters) => statement.iterate(...toSqlite(parameters)),
  };
}

/** node:sqlite refuses booleans and undefined; store them as SQLite itself would. */
function toSqlite(parameters: ReadonlyArray<unknown>): SQLInputValue[] {
  return parameters.map((value) => {
    if (typeof value === 'boolean') return value ? 1 : 0;
    if (value === undefined) return null;
    return value as SQLInputValue;
  });
}
