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
    await db
      .insertInto('log_lines')
      .values(rows.slice(i, i + ROWS_PER_INSERT))
      .execute();
  }
}

/** At most `limit` of one attempt's lines numbered above `afterSeq`, oldest first. */
export async function selectLogLinesAfter(
  db: Db,
  key: ActionKey,
  afterSeq: number,
  limit: number,
): Promise<LogLineRow[]> {
  return whereAction(db, key).where('seq', '>', afterSeq).orderBy('seq').limit(limit).execute();
}

/** At most `limit` of one attempt's lines numbered below `beforeSeq` (all, if undefined), newest first. */
export async function selectLogLinesBefore(
  db: Db,
  key: ActionKey,
  beforeSeq: number | undefined,
  limit: number,
): Promise<LogLineRow[]> {
  const query = whereAction(db, key);
  return (beforeSeq === undefined ? query : query.where('seq', '<', beforeSeq))
    .orderBy('seq', 'desc')
    .limit(limit)
    .execute();
}

function whereAction(db: Db, key: ActionKey) {
  return db
    .selectFrom('log_lines')
    .selectAll()
    .where('execution_id', '=', key.executionId)
    .where('stage', '=', key.stage)
    .where('action', '=', key.action)
    .where('attempt', '=', key.attempt);
}

/** One attempt's lines in the order they were appended. */
export async function selectLogLines(db: Db, key: ActionKey): Promise<LogLineRow[]> {
  return whereAction(db, key).orderBy('seq').execute();
}
