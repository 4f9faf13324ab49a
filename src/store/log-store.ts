/** Every action's log, line by line, numbered in the order the store took them. */
import type { OutputStream } from '../executor/executor.ts';
import type { ActionRef } from './execution-store.ts';

/** `sluice` lines are Sluice's own narration; the others are the command's output. */
export type LogStream = OutputStream | 'sluice';

export interface LogLine {
  stream: LogStream;
  text: string;
  at: number;
}

/** A log line with its number in the store, which orders every line and only grows. */
export interface NumberedLogLine extends LogLine {
  seq: number;
}

export interface LogStore {
  appendLog(ref: ActionRef, lines: LogLine[]): Promise<void>;
  readLog(ref: ActionRef): Promise<LogLine[]>;
  /**
   * At most `limit` lines appended after the line numbered `afterSeq` (0:
   * from the start), by the index: what a reader that has the rest asks for.
   */
  readLogAfter(ref: ActionRef, afterSeq: number, limit: number): Promise<NumberedLogLine[]>;
  /** The newest lines whose text, a newline each, fills `bytes` of UTF-8 (the last may overflow it): a log's tail. */
  readLogTail(ref: ActionRef, bytes: number): Promise<LogLine[]>;
}
