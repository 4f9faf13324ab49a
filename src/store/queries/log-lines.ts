/** Queries on `log_lines`: the output of each attempt of each action. */
import type { Insertable, Selectable } from 'kysely';
import type { Db, LogLinesTable } from '../database.ts';

export type LogLineRow = Selectable<LogLinesTable>;

/** One attempt of one action. */
export interface ActionKey {
  executionId: string;
  stage: string;
  action: string;
  attempt: number;
}

// Keeps one INSERT well under SQLite's limit on bound parameters.
const ROWS_PER_INSERT = 500;

/** Appends log lines, in the order given. */
export async function insertLogLines(db: Db, rows: Insertable<LogLinesTable>[]): Promise<void> {
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    await db.insertInto('log_lines').values(rows.slice(i, i + ROWS_PER_INSERT)).execute();
  }
}

/** One attempt's lines in the order they were appended. */
export async function selectLogLines(db: Db, key: ActionKey): Promise<LogLineRow[]> {
  return db
    .selectFrom('log_lines')
    .selectAll()
    .where('execution_id', '=', key.executionId)
    .where('stage', '=', key.stage)
    .where('action', '=', key.action)
    .where('attempt', '=', key.attempt)
    .orderBy('seq')
    .execute();
}
