/** `LogStore` over Kysely: log lines, numbered by the database. */
import { sql } from 'kysely';
import type { DatabaseKind, Db } from './database.ts';
import type { ActionRef } from './execution-store.ts';
import { inTransaction } from './in-transaction.ts';
import type { LogLine, LogStore, NumberedLogLine } from './log-store.ts';
import {
  insertLogLines,
  type LogLineRow,
  selectLogLines,
  selectLogLinesAfter,
  selectLogLinesBefore,
} from './queries/log-lines.ts';

/** Lines read per query while a log's tail is gathered from its end. */
const TAIL_PAGE = 500;

/**
 * `kind` matters on PostgreSQL, where lines are numbered before they commit:
 * two writers on one attempt's log take turns (a lock held until the commit),
 * so its lines commit in the order of their numbers and a reader by number
 * (a page's event stream) never moves past a line still to commit. SQLite
 * has one writer at a time already.
 */
export function makeLogStore(db: Db, kind: DatabaseKind): LogStore {
  return {
    async appendLog(ref: ActionRef, lines: LogLine[]): Promise<void> {
      if (lines.length === 0) return;
      const rows = lines.map((line) => ({
        execution_id: ref.executionId,
        stage: ref.stage,
        action: ref.action,
        attempt: ref.attempt,
        stream: line.stream,
        text: line.text,
        at: line.at,
      }));
      await inTransaction(db, async (trx) => {
        if (kind === 'postgres') {
          const key = JSON.stringify(['log', ref.executionId, ref.stage, ref.action, ref.attempt]);
          await sql`select pg_advisory_xact_lock(hashtextextended(${key}, 0))`.execute(trx);
        }
        await insertLogLines(trx, rows);
      });
    },

    async readLog(ref: ActionRef): Promise<LogLine[]> {
      return (await selectLogLines(db, ref)).map(toLogLine);
    },

    async readLogAfter(ref: ActionRef, afterSeq: number, limit: number): Promise<NumberedLogLine[]> {
      return (await selectLogLinesAfter(db, ref, afterSeq, limit)).map((row) => ({
        ...toLogLine(row),
        seq: row.seq,
      }));
    },

    async readLogTail(ref: ActionRef, bytes: number): Promise<LogLine[]> {
      const tail: LogLineRow[] = [];
      let filled = 0;
      let before: number | undefined;
      while (filled < bytes) {
        const page = await selectLogLinesBefore(db, ref, before, TAIL_PAGE);
        for (const row of page) {
          tail.push(row);
          filled += Buffer.byteLength(row.text) + 1;
          if (filled >= bytes) break;
        }
        if (page.length < TAIL_PAGE) break;
        before = page[page.length - 1]!.seq;
      }
      return tail.reverse().map(toLogLine);
    },
  };
}

function toLogLine(row: LogLineRow): LogLine {
  return { stream: row.stream as LogLine['stream'], text: row.text, at: row.at };
}
