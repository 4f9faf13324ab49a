import type { ActionRef, LogLine, Store } from '../store/store.ts';

/** Enough lines per insert to keep a chatty build from becoming a write per line. */
const BATCH = 200;
const FLUSH_MS = 250;

/**
 * Collects an action's log lines and writes them to the store in batches,
 * in order, while passing each line on at once for live display.
 */
export class LogBuffer {
  private pending: LogLine[] = [];
  private writing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private readonly store: Store;
  private readonly ref: ActionRef;
  private readonly onLine: (line: LogLine) => void;

  constructor(store: Store, ref: ActionRef, onLine: (line: LogLine) => void) {
    this.store = store;
    this.ref = ref;
    this.onLine = onLine;
  }

  add(line: LogLine): void {
    this.pending.push(line);
    this.onLine(line);
    if (this.pending.length >= BATCH) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  /** Write what is left; resolves when every line is stored. */
  async close(): Promise<void> {
    this.flush();
    await this.writing;
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const lines = this.pending;
    this.pending = [];
    // Chained so batches land in order; a failed write must not lose later ones.
    this.writing = this.writing.then(() => this.store.appendLog(this.ref, lines)).catch((error: unknown) => {
      process.emitWarning(`Could not store ${lines.length} log lines: ${String(error)}`);
    });
  }
}
