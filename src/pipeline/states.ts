/**
 * The three state machines of the engine: executions, stages and actions.
 * Each has one `transition…(state, event)` that returns the next state or
 * throws an `IllegalTransitionError`; nothing else changes a status.
 */

export type ExecutionStatus =
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'interrupted'
  | 'superseded'
  | 'cancelled';

export type StageStatus =
  | 'pending' // not reached yet
  | 'waiting' // ready, held at its transition (stage busy or transition disabled)
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'interrupted'
  | 'superseded'
  | 'cancelled';

export type ActionStatus =
  | 'pending'
  | 'running'
  | 'awaiting_approval' // an approval gate waiting for a decision
  | 'succeeded'
  | 'failed'
  | 'interrupted'
  | 'superseded'
  | 'cancelled';

export type ExecutionEvent = 'succeed' | 'fail' | 'interrupt' | 'supersede' | 'cancel' | 'retry';
export type StageEvent =
  | 'wait'
  | 'reset'
  | 'enter'
  | 'succeed'
  | 'fail'
  | 'interrupt'
  | 'supersede'
  | 'cancel'
  | 'retry';
export type ActionEvent =
  | 'start'
  | 'gate'
  | 'succeed'
  | 'fail'
  | 'interrupt'
  | 'supersede'
  | 'cancel'
  | 'retry';

/** Statuses after which nothing more happens unless someone retries. */
export const EXECUTION_DONE: readonly ExecutionStatus[] = ['succeeded', 'failed', 'interrupted', 'superseded', 'cancelled'];
/** Execution statuses from which a failed stage may be retried (PRODUCT P6). */
export const EXECUTION_RETRYABLE: readonly ExecutionStatus[] = ['failed', 'interrupted', 'cancelled'];
export const STAGE_DONE: readonly StageStatus[] = ['succeeded', 'failed', 'interrupted', 'superseded', 'cancelled'];
export const STAGE_RETRYABLE: readonly StageStatus[] = ['failed', 'interrupted', 'cancelled'];
export const ACTION_DONE: readonly ActionStatus[] = ['succeeded', 'failed', 'interrupted', 'superseded', 'cancelled'];
/** An action in one of these holds its stage. */
export const ACTION_ACTIVE: readonly ActionStatus[] = ['running', 'awaiting_approval'];

export class IllegalTransitionError extends Error {
  readonly code = 'ILLEGAL_TRANSITION';
  readonly machine: 'execution' | 'stage' | 'action';
  readonly from: string;
  readonly event: string;
  constructor(machine: 'execution' | 'stage' | 'action', from: string, event: string) {
    super(`An ${machine} that is ${from} cannot ${event}.`);
    this.name = 'IllegalTransitionError';
    this.machine = machine;
    this.from = from;
    this.event = event;
  }
}

type Table<S extends string, E extends string> = Partial<Record<S, Partial<Record<E, S>>>>;

const EXECUTION_TABLE: Table<ExecutionStatus, ExecutionEvent> = {
  running: {
    succeed: 'succeeded',
    fail: 'failed',
    interrupt: 'interrupted',
    supersede: 'superseded',
    cancel: 'cancelled',
  },
  failed: { retry: 'running' },
  interrupted: { retry: 'running', cancel: 'cancelled' },
  cancelled: { retry: 'running' },
};

const STAGE_TABLE: Table<StageStatus, StageEvent> = {
  pending: { wait: 'waiting', enter: 'running', supersede: 'superseded' },
  // `reset`: the execution halted elsewhere before this stage could enter.
  waiting: { enter: 'running', reset: 'pending', supersede: 'superseded', cancel: 'cancelled' },
  running: {
    succeed: 'succeeded',
    fail: 'failed',
    interrupt: 'interrupted',
    supersede: 'superseded',
    cancel: 'cancelled',
  },
  failed: { retry: 'waiting' },
  interrupted: { retry: 'waiting', cancel: 'cancelled' },
  cancelled: { retry: 'waiting' },
};

const ACTION_TABLE: Table<ActionStatus, ActionEvent> = {
  pending: { start: 'running', gate: 'awaiting_approval' },
  running: { succeed: 'succeeded', fail: 'failed', interrupt: 'interrupted', cancel: 'cancelled' },
  awaiting_approval: { succeed: 'succeeded', fail: 'failed', supersede: 'superseded', cancel: 'cancelled' },
  failed: { retry: 'pending' },
  interrupted: { retry: 'pending', cancel: 'cancelled' },
  cancelled: { retry: 'pending' },
  superseded: {},
  // Only an approval, whose deploy is retried: it asks again rather than let the retry through on its old decision.
  succeeded: { retry: 'pending' },
};

function step<S extends string, E extends string>(
  machine: 'execution' | 'stage' | 'action',
  table: Table<S, E>,
  from: S,
  event: E,
): S {
  const to = table[from]?.[event];
  if (to === undefined) throw new IllegalTransitionError(machine, from, event);
  return to;
}

export function transitionExecution(from: ExecutionStatus, event: ExecutionEvent): ExecutionStatus {
  return step('execution', EXECUTION_TABLE, from, event);
}

export function transitionStage(from: StageStatus, event: StageEvent): StageStatus {
  return step('stage', STAGE_TABLE, from, event);
}

export function transitionAction(from: ActionStatus, event: ActionEvent): ActionStatus {
  return step('action', ACTION_TABLE, from, event);
}

export const EXECUTION_STATUSES: readonly ExecutionStatus[] = ['running', ...EXECUTION_DONE];
export const STAGE_STATUSES: readonly StageStatus[] = ['pending', 'waiting', 'running', ...STAGE_DONE];
export const ACTION_STATUSES: readonly ActionStatus[] = ['pending', 'running', 'awaiting_approval', ...ACTION_DONE];
export const EXECUTION_EVENTS: readonly ExecutionEvent[] = ['succeed', 'fail', 'interrupt', 'supersede', 'cancel', 'retry'];
export const STAGE_EVENTS: readonly StageEvent[] = ['wait', 'reset', 'enter', 'succeed', 'fail', 'interrupt', 'supersede', 'cancel', 'retry'];
export const ACTION_EVENTS: readonly ActionEvent[] = ['start', 'gate', 'succeed', 'fail', 'interrupt', 'supersede', 'cancel', 'retry'];
