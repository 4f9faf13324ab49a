/**
 * Live progress on a terminal: one line per stage or action state change,
 * and each action's output prefixed with its name (parallel actions
 * interleave). Compares what the store says now with what it said last.
 */
import { formatDuration } from '../format-duration.ts';
import type { ActionRef, ExecutionSummary, LogLine } from '../store/store.ts';

const MARK: Record<string, string> = {
  running: '▶',
  waiting: '…',
  awaiting_approval: '?',
  succeeded: '✓',
  failed: '✗',
  interrupted: '!',
  superseded: '↷',
  cancelled: '■',
};

export class ProgressPrinter {
  private readonly seen = new Map<string, string>();
  private readonly write: (text: string) => void;

  constructor(write: (text: string) => void) {
    this.write = write;
  }

  header(execution: ExecutionSummary): void {
    const r = execution.revision;
    const ref = r.ref ? ` (${r.ref})` : '';
    const message = r.message ? ` "${r.message}"` : '';
    this.write(`Sluice · ${execution.repo} · execution #${execution.seq} · ${r.sha.slice(0, 7)}${ref}${message}\n`);
  }

  /** Print what changed since the last call. */
  update(execution: ExecutionSummary): void {
    for (const stage of execution.stages) {
      this.note(`${execution.id}:${stage.name}`, stage.status, () => {
        const reason = stage.reason && stage.status !== 'running' ? ` — ${stage.reason}` : '';
        return `${MARK[stage.status] ?? ' '} ${stage.name} ${stage.status.replace('_', ' ')}${reason}`;
      });
      for (const action of stage.actions) {
        this.note(`${execution.id}:${stage.name}/${action.name}:${action.attempt}`, action.status, () => {
          const attempt = action.attempt > 1 ? ` (attempt ${action.attempt})` : '';
          const took =
            action.startedAt && action.finishedAt ? ` in ${formatDuration(action.finishedAt - action.startedAt)}` : '';
          const reason = action.reason ? ` — ${action.reason}` : '';
          return `  ${MARK[action.status] ?? ' '} ${stage.name}/${action.name} ${action.status.replace('_', ' ')}${attempt}${took}${reason}`;
        });
      }
    }
  }

  log(ref: ActionRef, line: LogLine): void {
    this.write(`    ${ref.stage}/${ref.action} │ ${line.text}\n`);
  }

  footer(execution: ExecutionSummary): void {
    const took = formatDuration(execution.updatedAt - execution.createdAt);
    const reason = execution.reason ? `: ${execution.reason}` : '';
    const mark = execution.status === 'succeeded' ? '✓' : '✗';
    this.write(`${mark} Execution #${execution.seq} ${execution.status} after ${took}${reason}\n`);
  }

  private note(key: string, status: string, line: () => string): void {
    if (status === 'pending' || this.seen.get(key) === status) return;
    this.seen.set(key, status);
    this.write(`${line()}\n`);
  }
}
