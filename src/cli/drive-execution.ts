/**
 * Keep an execution moving from the terminal: wait for running actions,
 * answer approval gates (a flag, or a question on the terminal), and stop
 * when it ends or when only someone else can move it on.
 */
import type { PipelineRunner } from '../runner/pipeline-runner.ts';
import type { ExecutionStore, ActionRef, ExecutionSummary } from '../store/store.ts';
import type { ProgressPrinter } from './progress-printer.ts';

export type ApprovalAnswer = 'yes' | 'no' | 'ask' | 'leave';

export interface DriveOptions {
  store: ExecutionStore;
  runner: PipelineRunner;
  printer: ProgressPrinter;
  pipelineId: string;
  executionId: string;
  /** Gates opened while driving; filled by the runner's listener. */
  approvals: ActionRef[];
  answer: ApprovalAnswer;
  /** Ask a yes/no question on the terminal. */
  ask: (question: string) => Promise<boolean>;
  actor: string;
}

export async function driveExecution(options: DriveOptions): Promise<ExecutionSummary> {
  const { store, runner, printer, executionId } = options;
  for (;;) {
    await runner.idle();
    const decided = await answerApprovals(options);
    const execution = await store.getExecution(executionId);
    if (!execution) throw new Error(`Execution ${executionId} is not in the store.`);
    printer.update(execution);
    if (execution.status !== 'running') return execution;
    if (!runner.busy && !decided) return execution;
  }
}

async function answerApprovals(options: DriveOptions): Promise<boolean> {
  let decided = false;
  while (options.approvals.length > 0) {
    const ref = options.approvals.shift()!;
    const execution = await options.store.getExecution(ref.executionId);
    if (!execution || options.answer === 'leave') continue;
    let approved: boolean;
    if (options.answer === 'ask') {
      const r = execution.revision;
      approved = await options.ask(
        `Approve stage "${ref.stage}" of execution #${execution.seq} (${r.sha.slice(0, 7)}${r.ref ? ` ${r.ref}` : ''})? [y/N] `,
      );
    } else {
      approved = options.answer === 'yes';
    }
    const event = { type: 'approval_decided' as const, ...ref, approved, by: options.actor };
    await options.runner.dispatch(options.pipelineId, event, options.actor);
    decided = true;
  }
  return decided;
}

/** Why an execution that is still running cannot go on from here, and what to type. */
export function explainStall(execution: ExecutionSummary): string {
  for (const stage of execution.stages) {
    const gate = stage.actions.find((a) => a.status === 'awaiting_approval');
    if (gate) {
      return `Execution #${execution.seq} waits for approval of ${stage.name}/${gate.name}. Decide with \`sluice approve ${execution.seq}\` or \`sluice reject ${execution.seq}\`.`;
    }
    if (stage.status === 'waiting') {
      const hint = stage.reason?.includes('disabled')
        ? ` Enable it with \`sluice transition enable ${stage.name}\`.`
        : '';
      return `Execution #${execution.seq} waits to enter stage "${stage.name}": ${stage.reason ?? 'the stage is busy'}.${hint}`;
    }
  }
  return `Execution #${execution.seq} is still running but nothing here can move it on; see \`sluice status ${execution.seq}\`.`;
}
