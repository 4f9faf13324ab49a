/**
 * The scheduler: given a draft, move every execution as far as it can go
 * right now. Starts actions whose `needs` are met (P2), settles stages and
 * executions, halts on failure (P6) and lets executions into stages one at a
 * time, honouring the pipeline's mode (P3) and disabled transitions (P5).
 * Pure: it only changes the draft and queues commands.
 */
import { stageDefinition, type Draft } from './draft.ts';
import type { ExecutionState, StageState } from './snapshot.ts';
import { isStoppedShort, isUnsuccessful, STOPPED_SHORT, WORST_FIRST, type StageStatus } from './states.ts';

/** Enough for any real pipeline; a loop past it is a bug, not a long pipeline. */
const MAX_ROUNDS = 10_000;

/** The event that ends a stage or execution as each of the halted statuses. */
const END_EVENT = { failed: 'fail', interrupted: 'interrupt', superseded: 'supersede', cancelled: 'cancel' } as const;

export function advance(draft: Draft, options: { hold: boolean } = { hold: false }): void {
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const before = draft.changes.length;
    for (const execution of draft.snapshot.executions) {
      if (execution.status !== 'running') continue;
      for (const stage of execution.definition.stages) settleStage(draft, execution, stage.name, options.hold);
      settleExecution(draft, execution);
    }
    if (!options.hold) admitWaiting(draft);
    if (draft.changes.length === before) return;
  }
  throw new Error('The pipeline engine did not settle; this is a bug in Sluice.');
}

export function isHalted(execution: ExecutionState): boolean {
  return Object.values(execution.stages).some((s) => isUnsuccessful(s.status));
}

/** Start what may start in a running stage, or end the stage. */
function settleStage(draft: Draft, execution: ExecutionState, name: string, hold: boolean): void {
  const stage = execution.stages[name];
  if (!stage || stage.status !== 'running') return;
  const definition = stageDefinition(execution, name);
  const actions = Object.entries(stage.actions);
  const broken = actions.find(([, a]) => isStoppedShort(a.status));

  if (broken) {
    // A failure halts the stage: nothing new starts, open gates close.
    closeGates(draft, execution, name, 'cancel', `closed because action "${broken[0]}" ${broken[1].status}`);
    if (actions.some(([, a]) => a.status === 'running')) return;
    const [brokenName, brokenAction] = broken;
    const reason = `action "${brokenName}" ${brokenAction.status}${brokenAction.reason ? `: ${brokenAction.reason}` : ''}`;
    const worst = STOPPED_SHORT.find((status) => actions.some(([, a]) => a.status === status)) ?? 'cancelled';
    draft.moveStage(execution, name, END_EVENT[worst], reason);
    return;
  }

  if (actions.every(([, a]) => a.status === 'succeeded')) {
    draft.moveStage(execution, name, 'succeed');
    return;
  }

  if (hold) return;
  for (const action of definition.actions) {
    const state = stage.actions[action.name];
    if (!state || state.status !== 'pending') continue;
    if (!action.needs.every((n) => stage.actions[n]?.status === 'succeeded')) continue;
    const ref = { executionId: execution.id, stage: name, action: action.name };
    if (action.kind === 'approval') {
      draft.moveAction(execution, name, action.name, 'gate');
      draft.commands.push({ type: 'request_approval', ...ref, attempt: state.attempt });
    } else {
      draft.moveAction(execution, name, action.name, 'start');
      draft.commands.push({ type: 'run', ...ref, attempt: state.attempt });
    }
  }
}

/** End an execution that is done, or whose halt has nothing left running. */
function settleExecution(draft: Draft, execution: ExecutionState): void {
  const stages = Object.entries(execution.stages);
  if (!isHalted(execution)) {
    if (stages.every(([, s]) => s.status === 'succeeded')) draft.moveExecution(execution, 'succeed');
    return;
  }
  // Stages still waiting at their transition will not enter now.
  for (const [name, stage] of stages) {
    if (stage.status === 'waiting') draft.moveStage(execution, name, 'reset', 'the execution halted');
  }
  if (stages.some(([, s]) => s.status === 'running')) return;
  const first = (status: StageStatus) => stages.find(([, s]) => s.status === status);
  const because = ([name, stage]: [string, StageState]) =>
    `stage "${name}" ${stage.status}${stage.reason ? `: ${stage.reason}` : ''}`;
  const worstStatus = WORST_FIRST.find((status) => first(status) !== undefined);
  const worst = worstStatus && first(worstStatus);
  if (!worstStatus || !worst) draft.moveExecution(execution, 'cancel', because(stages[0]!));
  else
    draft.moveExecution(
      execution,
      END_EVENT[worstStatus],
      worstStatus === 'superseded' ? worst[1].reason : because(worst),
    );
}

interface Candidate {
  execution: ExecutionState;
  stage: StageState;
  since: number;
}

/** Let executions into stages: one per stage, by mode, through enabled transitions. */
function admitWaiting(draft: Draft): void {
  const running = draft.snapshot.executions.filter((e) => e.status === 'running');
  const newest = running.at(-1);
  if (!newest) return;
  const mode = newest.definition.mode;
  const names = new Set(running.flatMap((e) => e.definition.stages.map((s) => s.name)));

  for (const name of names) {
    const candidates: Candidate[] = [];
    for (const execution of running) {
      const stage = execution.stages[name];
      if (!stage || isHalted(execution)) continue;
      if (stage.status === 'waiting') candidates.push({ execution, stage, since: stage.waitingSince ?? draft.now });
      else if (stage.status === 'pending' && isReady(execution, name))
        candidates.push({ execution, stage, since: draft.now });
    }
    if (candidates.length === 0) continue;

    if (mode === 'superseded') {
      // Only the newest waiting execution keeps its place (P3).
      candidates.sort((a, b) => a.execution.seq - b.execution.seq);
      const winner = candidates.at(-1)!;
      for (const loser of candidates.slice(0, -1)) supersede(draft, loser.execution, name, winner.execution);
      candidates.splice(0, candidates.length - 1);
      const occupant = running.find((e) => e.stages[name]?.status === 'running');
      if (occupant && occupant.seq < winner.execution.seq && isIdleAtGate(occupant.stages[name]!)) {
        // An approval nobody has given yet is a wait, not work: the newer revision takes its place (K4).
        supersede(draft, occupant, name, winner.execution);
      }
    } else {
      candidates.sort((a, b) => a.since - b.since || a.execution.seq - b.execution.seq);
    }

    const occupied = running.some((e) => e.stages[name]?.status === 'running');
    const transition = draft.snapshot.transitions[name];
    const enabled = transition?.enabled ?? true;
    const [first, ...rest] = candidates;
    if (!occupied && enabled && first) {
      draft.moveStage(first.execution, name, 'enter');
    } else if (first) {
      rest.unshift(first);
    }
    for (const { execution, stage } of rest) {
      if (stage.status === 'pending') {
        const why = !enabled
          ? `the transition into "${name}" is disabled${transition?.reason ? `: ${transition.reason}` : ''}`
          : `stage "${name}" is busy with another execution`;
        draft.moveStage(execution, name, 'wait', why);
      }
    }
  }
}

function isReady(execution: ExecutionState, name: string): boolean {
  return stageDefinition(execution, name).needs.every((n) => execution.stages[n]?.status === 'succeeded');
}

/** A stage whose only open work is an approval gate waiting for a decision. */
function isIdleAtGate(stage: StageState): boolean {
  const actions = Object.values(stage.actions);
  return actions.some((a) => a.status === 'awaiting_approval') && !actions.some((a) => a.status === 'running');
}

function supersede(draft: Draft, execution: ExecutionState, name: string, by: ExecutionState): void {
  const reason = `superseded by execution #${by.seq} (${by.revision.sha.slice(0, 7)})`;
  closeGates(draft, execution, name, 'supersede', reason);
  draft.moveStage(execution, name, 'supersede', reason);
}

/** Close the stage's open approval gates by `event`, and withdraw what asked for them. */
function closeGates(
  draft: Draft,
  execution: ExecutionState,
  name: string,
  event: 'cancel' | 'supersede',
  reason: string,
): void {
  for (const [actionName, action] of Object.entries(execution.stages[name]!.actions)) {
    if (action.status !== 'awaiting_approval') continue;
    draft.moveAction(execution, name, actionName, event, reason);
    draft.commands.push({
      type: 'withdraw_approval',
      executionId: execution.id,
      stage: name,
      action: actionName,
      attempt: action.attempt,
      reason,
    });
  }
}
