/**
 * The pipeline engine: one pure function from (snapshot, event, time) to the
 * next snapshot, the state changes to record and the commands to carry out.
 * Executors, GitHub, Slack and the CLI feed it events; the store saves what
 * it returns. Nothing here does I/O.
 */
import { advance, isHalted } from './advance.ts';
import { gatingApprovals } from './approval-gates.ts';
import { actionDefinition, actionOf, Draft, stageOf } from './draft.ts';
import type { Command, ExecutionState, PipelineSnapshot, StateChange } from './snapshot.ts';
import { isStoppedShort } from './states.ts';
import { SluiceError, type EngineErrorCode } from '../sluice-error.ts';

export type EngineEvent =
  /** Look again: a new execution was created, or time passed. */
  | { type: 'tick' }
  | { type: 'action_succeeded'; executionId: string; stage: string; action: string; attempt: number }
  | { type: 'action_failed'; executionId: string; stage: string; action: string; attempt: number; reason: string }
  | {
      type: 'approval_decided';
      executionId: string;
      stage: string;
      action: string;
      /** The attempt the decider saw; a decision on an older gate is refused. */
      attempt?: number;
      approved: boolean;
      by: string;
      comment?: string;
    }
  /** An approval gate was open longer than its environment allows: it fails, as a rejection does. */
  | {
      type: 'approval_expired';
      executionId: string;
      stage: string;
      action: string;
      attempt: number;
      /** e.g. `24 h` */ after: string;
    }
  | { type: 'cancel_execution'; executionId: string; by: string; reason?: string }
  | { type: 'retry_stage'; executionId: string; stage: string; by: string }
  /** After a crash: whatever was running has no process any more (R3). */
  | { type: 'interrupt_running'; reason: string }
  /** One running action whose process is gone (its claim ran out, R2). */
  | { type: 'interrupt_action'; executionId: string; stage: string; action: string; attempt: number; reason: string }
  | { type: 'set_transition'; stage: string; enabled: boolean; reason?: string; by: string };

/** How the reason of an approval that expired begins. */
export const APPROVAL_EXPIRED = 'expired';

export interface EngineResult {
  snapshot: PipelineSnapshot;
  changes: StateChange[];
  commands: Command[];
}

/** A request the engine refuses; the message is for the person who asked. */
export class EngineError extends SluiceError<EngineErrorCode> {}

export interface StepOptions {
  /**
   * Record what the event means but start nothing new (no action, no stage
   * entered): for a process that only looks, such as `sluice status` after a
   * crash. The next ordinary step starts what is due.
   */
  hold?: boolean;
}

export function step(
  snapshot: PipelineSnapshot,
  event: EngineEvent,
  now: number,
  options: StepOptions = {},
): EngineResult {
  const draft = new Draft(snapshot, now);
  apply(draft, event);
  advance(draft, { hold: options.hold ?? false });
  return { snapshot: draft.snapshot, changes: draft.changes, commands: draft.commands };
}

function apply(draft: Draft, event: EngineEvent): void {
  switch (event.type) {
    case 'tick':
      return;
    case 'action_succeeded':
    case 'action_failed': {
      const execution = draft.execution(event.executionId);
      const action = execution?.stages[event.stage]?.actions[event.action];
      if (
        execution &&
        action?.status === 'interrupted' &&
        action.attempt === event.attempt &&
        event.type === 'action_failed'
      ) {
        // A peer took this process for dead, but it went on and stopped the action itself: say how (a deploy: what it
        // rolled back).
        action.reason = `${action.reason ?? 'interrupted'}; its process was still running it, and stopped it: ${event.reason}`;
        return;
      }
      // A result for an action that ended meanwhile, or for an older attempt, changes nothing else.
      if (!execution || !action || action.status !== 'running' || action.attempt !== event.attempt) return;
      if (execution.status !== 'running') {
        // The execution was cancelled while the action ran: it ends now, saying how it stopped (a deploy: what it
        // rolled back).
        if (event.type === 'action_succeeded')
          draft.moveAction(execution, event.stage, event.action, 'succeed', 'finished before the cancel reached it');
        else
          draft.moveAction(
            execution,
            event.stage,
            event.action,
            'cancel',
            `${execution.reason ?? 'cancelled'}; ${event.reason}`,
          );
        settleStoppedStage(draft, execution, event.stage);
        return;
      }
      if (event.type === 'action_succeeded') draft.moveAction(execution, event.stage, event.action, 'succeed');
      else draft.moveAction(execution, event.stage, event.action, 'fail', event.reason);
      return;
    }
    case 'approval_decided':
      return decide(draft, event);
    case 'approval_expired': {
      const execution = draft.execution(event.executionId);
      const action = execution?.stages[event.stage]?.actions[event.action];
      // A decision that came first wins; an expiry of an older gate changes nothing.
      if (!execution || action?.status !== 'awaiting_approval' || action.attempt !== event.attempt) return;
      draft.moveAction(
        execution,
        event.stage,
        event.action,
        'fail',
        `${APPROVAL_EXPIRED}: nobody decided within ${event.after}`,
      );
      return;
    }
    case 'cancel_execution':
      return cancel(draft, event.executionId, event.by, event.reason);
    case 'retry_stage':
      return retry(draft, event.executionId, event.stage, event.by);
    case 'interrupt_running':
      // Also the actions a cancelled execution was still stopping (a rollback): their process is gone too.
      for (const execution of draft.snapshot.executions) {
        for (const [stageName, stage] of Object.entries(execution.stages)) {
          for (const [actionName, action] of Object.entries(stage.actions)) {
            if (action.status === 'running')
              draft.moveAction(execution, stageName, actionName, 'interrupt', event.reason);
          }
          if (execution.status !== 'running') settleStoppedStage(draft, execution, stageName);
        }
      }
      return;
    case 'interrupt_action': {
      const execution = draft.execution(event.executionId);
      const action = execution?.stages[event.stage]?.actions[event.action];
      // Finished (or retried) meanwhile: its holder was alive after all, or someone moved on.
      if (!execution || action?.status !== 'running' || action.attempt !== event.attempt) return;
      draft.moveAction(execution, event.stage, event.action, 'interrupt', event.reason);
      if (execution.status !== 'running') settleStoppedStage(draft, execution, event.stage);
      return;
    }
    case 'set_transition':
      draft.snapshot.transitions[event.stage] = {
        enabled: event.enabled,
        reason: event.reason,
        actor: event.by,
        at: draft.now,
      };
      return;
  }
}

function decide(draft: Draft, event: Extract<EngineEvent, { type: 'approval_decided' }>): void {
  const execution = found(draft, event.executionId);
  const definition = actionDefinition(execution, event.stage, event.action);
  if (definition.kind !== 'approval') {
    throw new EngineError('GATE_CLOSED', `Action "${event.action}" is not an approval.`);
  }
  const action = actionOf(execution, event.stage, event.action);
  if (action.status !== 'awaiting_approval' || (event.attempt !== undefined && event.attempt !== action.attempt)) {
    const what =
      action.status === 'awaiting_approval'
        ? 'a newer approval request'
        : `${action.status}${action.reason ? ` (${action.reason})` : ''}`;
    throw new EngineError('GATE_CLOSED', `This approval is no longer open: it is ${what}.`);
  }
  const comment = event.comment ? `: ${event.comment}` : '';
  if (event.approved)
    draft.moveAction(execution, event.stage, event.action, 'succeed', `approved by ${event.by}${comment}`);
  else draft.moveAction(execution, event.stage, event.action, 'fail', `rejected by ${event.by}${comment}`);
}

function cancel(draft: Draft, executionId: string, by: string, why?: string): void {
  const execution = found(draft, executionId);
  if (execution.status !== 'running') {
    throw new EngineError(
      'NOT_RUNNING',
      `Execution #${execution.seq} is already ${execution.status}; there is nothing to cancel.`,
    );
  }
  const reason = `cancelled by ${by}${why ? `: ${why}` : ''}`;
  for (const [stageName, stage] of Object.entries(execution.stages)) {
    for (const [actionName, action] of Object.entries(stage.actions)) {
      const ref = { executionId, stage: stageName, action: actionName, attempt: action.attempt };
      if (action.status === 'running') {
        // It stays running until it reports: a deploy first puts back the hosts it touched.
        draft.commands.push({ type: 'abort', ...ref });
      } else if (action.status === 'awaiting_approval') {
        draft.moveAction(execution, stageName, actionName, 'cancel', reason);
        draft.commands.push({ type: 'withdraw_approval', ...ref, reason });
      }
    }
    if (stage.status === 'running' && !Object.values(stage.actions).some((a) => a.status === 'running'))
      draft.moveStage(execution, stageName, 'cancel', reason);
    else if (stage.status === 'waiting') draft.moveStage(execution, stageName, 'reset', reason);
  }
  draft.moveExecution(execution, 'cancel', reason);
}

/**
 * A stage of a cancelled execution ends once none of its actions runs any
 * more: succeeded if they all did (the cancel came too late), else as its
 * first action that did not.
 */
function settleStoppedStage(draft: Draft, execution: ExecutionState, stageName: string): void {
  const stage = stageOf(execution, stageName);
  const actions = Object.entries(stage.actions);
  if (stage.status !== 'running' || actions.some(([, a]) => a.status === 'running')) return;
  if (actions.every(([, a]) => a.status === 'succeeded')) return draft.moveStage(execution, stageName, 'succeed');
  const stopped = actions.find(([, a]) => isStoppedShort(a.status));
  const reason = stopped
    ? `action "${stopped[0]}" ${stopped[1].status}${stopped[1].reason ? `: ${stopped[1].reason}` : ''}`
    : execution.reason;
  draft.moveStage(execution, stageName, stopped?.[1].status === 'interrupted' ? 'interrupt' : 'cancel', reason);
}

function retry(draft: Draft, executionId: string, stageName: string, by: string): void {
  const execution = found(draft, executionId);
  if (!execution.stages[stageName]) {
    const names = execution.definition.stages.map((s) => s.name).join(', ');
    throw new EngineError(
      'UNKNOWN_STAGE',
      `Execution #${execution.seq} has no stage "${stageName}" (its stages: ${names}).`,
    );
  }
  const stage = stageOf(execution, stageName);
  const executionOk = isStoppedShort(execution.status) || (execution.status === 'running' && isHalted(execution));
  if (!executionOk || !isStoppedShort(stage.status)) {
    throw new EngineError(
      'NOT_RETRYABLE',
      `Stage "${stageName}" of execution #${execution.seq} is ${stage.status} (execution ${execution.status}); only a failed, interrupted or cancelled stage can be retried.`,
    );
  }
  const passed = passedApproval(execution, stageName);
  if (passed) {
    throw new EngineError(
      'NOT_RETRYABLE',
      `Stage "${stageName}" of execution #${execution.seq} deploys on the approval "${passed.action}" of stage "${passed.stage}", which has passed; a retry does not reuse an old approval, so push again or roll back instead.`,
    );
  }
  const reason = `retried by ${by}`;
  if (execution.status !== 'running') draft.moveExecution(execution, 'retry', reason);
  // Actions that succeeded keep their result; the rest run again (P6).
  const again = Object.entries(stage.actions).filter(([, a]) => isStoppedShort(a.status));
  for (const [actionName] of again) draft.moveAction(execution, stageName, actionName, 'retry', reason);
  // But an approval is not reused: one of this stage that lets a deploy through which runs again asks again (K4).
  for (const approval of approvalsToAskAgain(execution, stageName)) {
    draft.moveAction(execution, stageName, approval, 'retry', `${reason}: its deploy runs again, so it asks again`);
  }
  draft.moveStage(execution, stageName, 'retry', reason);
}

/**
 * The approvals of `stageName` that succeeded and gate one of its deploys
 * still to run (retried, or pending behind an action that failed): however
 * long ago it was given, such an approval is not what lets the retry out.
 */
function approvalsToAskAgain(execution: ExecutionState, stageName: string): string[] {
  const stage = stageOf(execution, stageName);
  const names = new Set<string>();
  for (const [name, action] of Object.entries(stage.actions)) {
    if (action.status === 'succeeded' || actionDefinition(execution, stageName, name).kind !== 'deploy') continue;
    for (const gate of gatingApprovals(execution.definition, stageName, name)) {
      if (gate.stage === stageName && stage.actions[gate.action]?.status === 'succeeded') names.add(gate.action);
    }
  }
  return [...names];
}

/** An approval of an earlier stage, given already, that lets a deploy of `stageName` still to run through. */
function passedApproval(execution: ExecutionState, stageName: string): { stage: string; action: string } | undefined {
  for (const [name, action] of Object.entries(stageOf(execution, stageName).actions)) {
    if (action.status === 'succeeded' || actionDefinition(execution, stageName, name).kind !== 'deploy') continue;
    const gate = gatingApprovals(execution.definition, stageName, name).find(
      (g) => g.stage !== stageName && execution.stages[g.stage]?.actions[g.action]?.status === 'succeeded',
    );
    if (gate) return gate;
  }
  return undefined;
}

function found(draft: Draft, executionId: string): ExecutionState {
  const execution = draft.execution(executionId);
  if (!execution) throw new EngineError('EXECUTION_NOT_FOUND', `No execution ${executionId} in this pipeline.`);
  return execution;
}
