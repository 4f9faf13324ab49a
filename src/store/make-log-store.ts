/** `LogStore` over Kysely: log lines, numbered by the database. */
import type { Db } from './database.ts';
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

export function makeLogStore(db: Db): LogStore {
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
      await inTransaction(db, (trx) => insertLogLines(trx, rows));
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
