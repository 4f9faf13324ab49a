/**
 * What runs one build, command or deploy action. The pipeline runner knows
 * only this interface; `createActionRunner` picks the executor for the host
 * and the code for the kind. It lives with the actions, below the runner
 * and the deploy, which both speak it, so imports run one way.
 */
import type { ActionRef, ExecutionSummary, LogLine } from '../store/store.ts';

/** How an action ended, as the engine records it; `reason` is a sentence for a user, secrets masked. */
export type ActionOutcome = { ok: true } | { ok: false; reason: string };

/**
 * One attempt at one action, as the pipeline runner hands it to an action
 * runner: which execution and action, the signal that cancels it, where its
 * output goes and the claim it runs under.
 */
export interface ActionRun {
  execution: ExecutionSummary;
  ref: ActionRef;
  signal: AbortSignal;
  /** One output line; secrets must already be masked or be masked here. */
  log(text: string, stream: LogLine['stream']): void;
  /**
   * Fencing (PRODUCT R2): whether this process still holds its claim on the
   * action, renewing it. Asked before a write with effects (recording an
   * artifact), so a process a peer took for dead cannot overwrite its work.
   */
  holdsClaim?(): Promise<boolean>;
  /** The process that claimed the action (the runner's owner id), when it runs under a claim. */
  claimOwner?: string;
}

export interface ActionRunner {
  run(run: ActionRun): Promise<ActionOutcome>;
}
