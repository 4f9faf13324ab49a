/**
 * Persists what one engine step decided. Every row whose values differ from
 * what was loaded — and every row a `StateChange` names — is written with its
 * values from the returned snapshot; every `StateChange` becomes a history
 * row with the step's time and actor (PRODUCT P7). Transitions that differ
 * are saved and audited; one missing from the returned snapshot is left as it
 * is (enabling is `enabled: true`, not deletion). Runs inside the caller's
 * transaction, so a step is saved whole or not at all.
 */
import type { ActionState, ExecutionState, PipelineSnapshot, StageState, StateChange } from '../pipeline/snapshot.ts';
import { type ActionStatus, hasEnded, isActive } from '../pipeline/states.ts';
import type { Db } from './database.ts';
import { touchExecutions, updateExecutionStatus } from './queries/executions.ts';
import { updateActionRun, updateStageRun } from './queries/runs.ts';
import { insertStateChanges } from './queries/state-changes.ts';
import { saveTransition } from './queries/transitions.ts';
import type { EngineStep } from './store.ts';

/** Who took an engine step and when: every row and history entry it writes carries them. */
export interface StepStamp {
  actor: string;
  now: number;
  /** Actions this step starts are claimed for `owner` until `until` (PRODUCT R2). */
  claim?: { owner: string; until: number };
}

/** Writes `step` over the `before` snapshot it was computed from. */
export async function saveStep(db: Db, before: PipelineSnapshot, step: EngineStep, stamp: StepStamp): Promise<void> {
  const { now } = stamp;
  const named = nameChangedEntities(step.changes);
  const touched = new Set<string>();
  for (const change of step.changes) requireInSnapshot(step.snapshot, change);

  for (const execution of step.snapshot.executions) {
    const old = before.executions.find((e) => e.id === execution.id);
    if (named.has(key(execution.id)) || old?.status !== execution.status || old.reason !== execution.reason) {
      touched.add(execution.id);
      const values = { status: execution.status, reason: execution.reason ?? null, updatedAt: now };
      if (!(await updateExecutionStatus(db, execution.id, values))) missing(`execution ${execution.id}`);
    }
    for (const [stageName, stage] of Object.entries(execution.stages)) {
      const oldStage = old?.stages[stageName];
      if (named.has(key(execution.id, stageName)) || stageDiffers(oldStage, stage)) {
        touched.add(execution.id);
        const values = {
          status: stage.status,
          attempt: stage.attempt,
          waiting_since: stage.waitingSince ?? null,
          reason: stage.reason ?? null,
          updated_at: now,
        };
        if (!(await updateStageRun(db, { executionId: execution.id, stage: stageName }, values))) {
          missing(`stage "${stageName}" of execution #${execution.seq}`);
        }
      }
      for (const [actionName, action] of Object.entries(stage.actions)) {
        const actionKey = key(execution.id, stageName, actionName);
        const oldAction = oldStage?.actions[actionName];
        if (!named.has(actionKey) && !actionDiffers(oldAction, action)) continue;
        touched.add(execution.id);
        // The statuses it passed through in this step decide its start and end times.
        const passed = named.get(actionKey) ?? (oldAction?.status === action.status ? [] : [action.status]);
        const values = {
          status: action.status,
          attempt: action.attempt,
          reason: action.reason ?? null,
          updated_at: now,
          ...times(passed, now),
          ...claimOf(action.status, passed, stamp),
        };
        if (!(await updateActionRun(db, { executionId: execution.id, stage: stageName, action: actionName }, values))) {
          missing(`action "${actionName}" of stage "${stageName}" of execution #${execution.seq}`);
        }
      }
    }
  }

  await insertStateChanges(
    db,
    step.changes.map((c) => ({
      execution_id: c.executionId,
      entity: c.entity,
      stage: c.stage ?? null,
      action: c.action ?? null,
      from_status: c.from,
      to_status: c.to,
      attempt: c.attempt ?? null,
      reason: c.reason ?? null,
      actor: stamp.actor,
      at: now,
    })),
  );
  await touchExecutions(db, [...touched], now);

  for (const [stage, transition] of Object.entries(step.snapshot.transitions)) {
    const old = before.transitions[stage];
    const same =
      old !== undefined &&
      old.enabled === transition.enabled &&
      old.reason === transition.reason &&
      old.actor === transition.actor &&
      old.at === transition.at;
    if (same) continue;
    await saveTransition(db, {
      pipeline_id: step.snapshot.pipelineId,
      stage,
      enabled: transition.enabled ? 1 : 0,
      reason: transition.reason ?? null,
      actor: transition.actor ?? stamp.actor,
      at: transition.at ?? now,
    });
  }
}

function key(executionId: string, stage = '', action = ''): string {
  return `${executionId}\0${stage}\0${action}`;
}

/** Entities named by the changes, each with the statuses it moved to, in order. */
function nameChangedEntities(changes: StateChange[]): Map<string, string[]> {
  const named = new Map<string, string[]>();
  for (const change of changes) {
    const k =
      change.entity === 'execution'
        ? key(change.executionId)
        : change.entity === 'stage'
          ? key(change.executionId, change.stage)
          : key(change.executionId, change.stage, change.action);
    named.set(k, [...(named.get(k) ?? []), change.to]);
  }
  return named;
}

/**
 * An action started in this step is held by the process that started it
 * (unclaimed without one: a peer then treats it as abandoned once a lease
 * would have run out); an action that stopped running is held by nobody.
 */
function claimOf(
  status: ActionStatus,
  passed: string[],
  stamp: StepStamp,
): { claimed_by?: string | null; lease_until?: number | null } {
  if (status !== 'running') return { claimed_by: null, lease_until: null };
  if (!passed.includes('running')) return {};
  return stamp.claim
    ? { claimed_by: stamp.claim.owner, lease_until: stamp.claim.until }
    : { claimed_by: null, lease_until: null };
}

/** started_at when an action becomes active (running, or an approval gate opens); finished_at when it ends. */
function times(statuses: string[], now: number): { started_at?: number | null; finished_at?: number | null } {
  const result: { started_at?: number | null; finished_at?: number | null } = {};
  for (const status of statuses as ActionStatus[]) {
    if (isActive(status)) Object.assign(result, { started_at: now, finished_at: null });
    else if (hasEnded(status)) result.finished_at = now;
    else if (status === 'pending') Object.assign(result, { started_at: null, finished_at: null });
  }
  return result;
}

function stageDiffers(old: StageState | undefined, stage: StageState): boolean {
  return (
    old === undefined ||
    old.status !== stage.status ||
    old.attempt !== stage.attempt ||
    old.waitingSince !== stage.waitingSince ||
    old.reason !== stage.reason
  );
}

function actionDiffers(old: ActionState | undefined, action: ActionState): boolean {
  return (
    old === undefined || old.status !== action.status || old.attempt !== action.attempt || old.reason !== action.reason
  );
}

/** A change the returned snapshot cannot account for is an engine bug; saving half of it would hide that. */
function requireInSnapshot(snapshot: PipelineSnapshot, change: StateChange): void {
  const execution: ExecutionState | undefined = snapshot.executions.find((e) => e.id === change.executionId);
  const found =
    execution !== undefined &&
    (change.entity === 'execution' ||
      (change.stage !== undefined &&
        execution.stages[change.stage] !== undefined &&
        (change.entity === 'stage' ||
          (change.action !== undefined && execution.stages[change.stage]?.actions[change.action] !== undefined))));
  if (!found) {
    const what = [change.entity, change.executionId, change.stage, change.action].filter(Boolean).join(' ');
    throw new Error(
      `The step recorded a change of ${what} (${change.from} → ${change.to}) that is not in the snapshot it returned; nothing was saved.`,
    );
  }
}

function missing(what: string): never {
  throw new Error(`The step changed ${what}, which is not in the database; nothing was saved.`);
}
