/**
 * The three state machines of the engine: executions, stages and actions.
 * Each has one `transition…(state, event)` that returns the next state or
 * throws an `IllegalTransitionError`; nothing else changes a status.
 */
import { SluiceError } from '../sluice-error.ts';

// The groups of ended statuses, shared by the three machines: whatever asks
// "did it fail?" or "is it over?" asks through these.

/** Ended by a fault — failed, or lost with its process: what GitHub and Slack report as a failure. */
export const BROKEN = ['failed', 'interrupted'] as const;
/** Ended short of success — broken, or stopped by a person: what a retry starts from. */
export const STOPPED_SHORT = [...BROKEN, 'cancelled'] as const;
/** Ended without success: stopped short, or made pointless by a newer execution. */
export const UNSUCCESSFUL = [...STOPPED_SHORT, 'superseded'] as const;
/** Ended by a decision — a person's cancel, or a newer execution's: not a fault, nothing to report as one. */
export const DECIDED = ['superseded', 'cancelled'] as const;
/** What a halted stage or execution ends as, worst first: the first of these among its parts. */
export const WORST_FIRST = [...BROKEN, ...DECIDED] as const;
/** Statuses after which nothing more happens unless someone retries. */
export const ENDED = ['succeeded', ...UNSUCCESSFUL] as const;

export type BrokenStatus = (typeof BROKEN)[number];
export type StoppedShortStatus = (typeof STOPPED_SHORT)[number];
export type UnsuccessfulStatus = (typeof UNSUCCESSFUL)[number];
export type EndedStatus = (typeof ENDED)[number];
export type DecidedStatus = (typeof DECIDED)[number];

export const EXECUTION_STATUSES = ['running', ...ENDED] as const;
export const STAGE_STATUSES = [
  'pending', // not reached yet
  'waiting', // ready, held at its transition (stage busy or transition disabled)
  'running',
  ...ENDED,
] as const;
export const ACTION_STATUSES = [
  'pending',
  'running',
  'awaiting_approval', // an approval gate waiting for a decision
  ...ENDED,
] as const;
/** An action in one of these holds its stage. */
export const ACTION_ACTIVE = ['running', 'awaiting_approval'] as const;

export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];
export type StageStatus = (typeof STAGE_STATUSES)[number];
export type ActionStatus = (typeof ACTION_STATUSES)[number];

export const EXECUTION_EVENTS = ['succeed', 'fail', 'interrupt', 'supersede', 'cancel', 'retry'] as const;
export const STAGE_EVENTS = [
  'wait',
  'reset',
  'enter',
  'succeed',
  'fail',
  'interrupt',
  'supersede',
  'cancel',
  'retry',
] as const;
export const ACTION_EVENTS = ['start', 'gate', 'succeed', 'fail', 'interrupt', 'supersede', 'cancel', 'retry'] as const;

export type ExecutionEvent = (typeof EXECUTION_EVENTS)[number];
export type StageEvent = (typeof STAGE_EVENTS)[number];
export type ActionEvent = (typeof ACTION_EVENTS)[number];

function within<T extends string>(group: readonly T[], status: string): status is T {
  return (group as readonly string[]).includes(status);
}

/** Failed or interrupted: ended by a fault, not by a person. */
export function isBroken(status: string): status is BrokenStatus {
  return within(BROKEN, status);
}

/** Failed, interrupted or cancelled: ended short, and a retry may start from it. */
export function isStoppedShort(status: string): status is StoppedShortStatus {
  return within(STOPPED_SHORT, status);
}

/** Superseded or cancelled: ended by a decision, not by a fault. */
export function isDecided(status: string): status is DecidedStatus {
  return within(DECIDED, status);
}

/** Ended without success, superseded included. */
export function isUnsuccessful(status: string): status is UnsuccessfulStatus {
  return within(UNSUCCESSFUL, status);
}

/** Nothing more happens to it unless someone retries. */
export function hasEnded(status: string): status is EndedStatus {
  return within(ENDED, status);
}

/** Running or waiting for a decision: the action holds its stage. */
export function isActive(status: string): status is (typeof ACTION_ACTIVE)[number] {
  return within(ACTION_ACTIVE, status);
}

export class IllegalTransitionError extends SluiceError<'ILLEGAL_TRANSITION'> {
  readonly machine: 'execution' | 'stage' | 'action';
  readonly from: string;
  readonly event: string;
  constructor(machine: 'execution' | 'stage' | 'action', from: string, event: string) {
    super('ILLEGAL_TRANSITION', `An ${machine} that is ${from} cannot ${event}.`);
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
