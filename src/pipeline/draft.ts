/**
 * A working copy of a pipeline snapshot that records every status change it
 * makes. All changes go through the state machines in states.ts, so an
 * illegal move throws instead of being saved.
 */
import { type ActionDefinition, findAction, findStage, type StageDefinition } from './definition.ts';
import type { ActionState, Command, ExecutionState, PipelineSnapshot, StageState, StateChange } from './snapshot.ts';
import {
  transitionAction,
  transitionExecution,
  transitionStage,
  type ActionEvent,
  type ExecutionEvent,
  type StageEvent,
} from './states.ts';

export class Draft {
  readonly snapshot: PipelineSnapshot;
  readonly changes: StateChange[] = [];
  readonly commands: Command[] = [];
  readonly now: number;

  constructor(snapshot: PipelineSnapshot, now: number) {
    this.snapshot = structuredClone(snapshot);
    this.now = now;
  }

  execution(id: string): ExecutionState | undefined {
    return this.snapshot.executions.find((e) => e.id === id);
  }

  moveExecution(execution: ExecutionState, event: ExecutionEvent, reason?: string): void {
    const from = execution.status;
    execution.status = transitionExecution(from, event);
    execution.reason = reason;
    this.changes.push({ executionId: execution.id, entity: 'execution', from, to: execution.status, reason });
  }

  moveStage(execution: ExecutionState, name: string, event: StageEvent, reason?: string): void {
    const stage = stageOf(execution, name);
    const from = stage.status;
    stage.status = transitionStage(from, event);
    stage.reason = reason;
    if (event === 'retry') stage.attempt += 1;
    if (stage.status === 'waiting') stage.waitingSince = this.now;
    else delete stage.waitingSince;
    this.changes.push({
      executionId: execution.id,
      entity: 'stage',
      stage: name,
      from,
      to: stage.status,
      attempt: stage.attempt,
      reason,
    });
  }

  moveAction(execution: ExecutionState, stageName: string, name: string, event: ActionEvent, reason?: string): void {
    const action = actionOf(execution, stageName, name);
    const from = action.status;
    action.status = transitionAction(from, event);
    action.reason = reason;
    if (event === 'retry') action.attempt += 1;
    this.changes.push({
      executionId: execution.id,
      entity: 'action',
      stage: stageName,
      action: name,
      from,
      to: action.status,
      attempt: action.attempt,
      reason,
    });
  }
}

// The four lookups below cannot fail on an execution the engine made: its stages and actions are its definition's.
export function stageOf(execution: ExecutionState, name: string): StageState {
  const stage = execution.stages[name];
  if (!stage) throw new Error(`Execution #${execution.seq} has no stage "${name}".`);
  return stage;
}

export function actionOf(execution: ExecutionState, stageName: string, name: string): ActionState {
  const action = stageOf(execution, stageName).actions[name];
  if (!action) throw new Error(`Stage "${stageName}" of execution #${execution.seq} has no action "${name}".`);
  return action;
}

export function stageDefinition(execution: ExecutionState, name: string): StageDefinition {
  const stage = findStage(execution.definition, name);
  if (!stage) throw new Error(`The pipeline of execution #${execution.seq} has no stage "${name}".`);
  return stage;
}

export function actionDefinition(execution: ExecutionState, stageName: string, name: string): ActionDefinition {
  stageDefinition(execution, stageName);
  const action = findAction(execution.definition, stageName, name);
  if (!action) throw new Error(`Stage "${stageName}" has no action "${name}".`);
  return action;
}
