import type { LogStore, ActionRef, LogLine } from '../store/store.ts';
import { errorMessage } from '../sluice-error.ts';

/** Enough lines per insert to keep a chatty build from becoming a write per line. */
const BATCH = 200;
const FLUSH_MS = 250;
/** Lines kept while the store fails; beyond this the oldest unsaved are dropped. */
const MAX_UNSAVED = 20_000;

/**
 * Collects an action's log lines and writes them to the store in batches,
 * in order, while passing each line on at once for live display. Lines
 * whose write failed (a full disk, a database restarting) are kept and go
 * with the next write: they often say what went wrong.
 */
export class LogBuffer {
  private pending: LogLine[] = [];
  private writing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private failure: unknown;
  private dropped = 0;
  private readonly store: LogStore;
  private readonly ref: ActionRef;
  private readonly onLine: (line: LogLine) => void;

  constructor(store: LogStore, ref: ActionRef, onLine: (line: LogLine) => void) {
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

  /** Write what is left; resolves when every line is stored, and throws the store's error when some could not be. */
  async close(): Promise<void> {
    this.flush();
    await this.writing;
    if (this.pending.length > 0) throw this.failure;
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    // Chained so batches land in order; a failed write keeps its lines for the next.
    this.writing = this.writing.then(async () => {
      if (this.pending.length === 0) return;
      const lines = this.pending;
      this.pending = [];
      try {
        await this.store.appendLog(this.ref, lines);
        this.failure = undefined;
      } catch (error) {
        if (this.failure === undefined)
          process.emitWarning(
            `Could not store ${lines.length} log lines, and keeps them for the next try: ${errorMessage(error)}`,
          );
        this.failure = error;
        this.pending = [...lines, ...this.pending];
        if (this.pending.length > MAX_UNSAVED) {
          this.dropped += this.pending.length - MAX_UNSAVED;
          this.pending = this.pending.slice(-MAX_UNSAVED);
          this.pending[0] = {
            ...this.pending[0]!,
            text: `[${this.dropped} earlier log lines were lost while the store failed] ${this.pending[0]!.text}`,
          };
        }
      }
    });
  }
}
