/** Queries on `state_changes`: the append-only history of every status change (PRODUCT P7). */
import type { Insertable, Selectable } from 'kysely';
import type { Db, StateChangesTable } from '../database.ts';

export type StateChangeRow = Selectable<StateChangesTable>;

// Keeps one INSERT well under SQLite's limit on bound parameters.
const ROWS_PER_INSERT = 500;

/** Appends history rows. */
export async function insertStateChanges(db: Db, rows: Insertable<StateChangesTable>[]): Promise<void> {
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    await db
      .insertInto('state_changes')
      .values(rows.slice(i, i + ROWS_PER_INSERT))
      .execute();
  }
}

/** An execution's changes in the order they were recorded. */
export async function selectStateChanges(db: Db, executionId: string): Promise<StateChangeRow[]> {
  return db.selectFrom('state_changes').selectAll().where('execution_id', '=', executionId).orderBy('id').execute();
}
