import type { Db } from './database.ts';

/**
 * Runs `work` in a transaction, or in the one `db` already is: the store's
 * concerns share one handle, so a write of several rows inside
 * `Store.transaction` joins it instead of opening a second one (which
 * Kysely refuses, and which could not see the first one's writes).
 */
export function inTransaction<T>(db: Db, work: (trx: Db) => Promise<T>): Promise<T> {
  return db.isTransaction ? work(db) : db.transaction().execute(work);
}
