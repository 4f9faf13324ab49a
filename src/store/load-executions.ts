/**
 * Turns execution rows into the engine's `ExecutionState`s and the readers'
 * `ExecutionSummary`s, fetching their stage and action runs in one go.
 * Stages and actions keep the order of the execution's own definition.
 */
import { z } from 'zod';
import { ACTION_KINDS, EXECUTION_MODES, type PipelineDefinition } from '../pipeline/definition.ts';
import type { ActionState, ExecutionState, Revision, StageState } from '../pipeline/snapshot.ts';
import type { ActionStatus, ExecutionStatus, StageStatus } from '../pipeline/states.ts';
import type { Db } from './database.ts';
import type { ActionSummary, ExecutionSummary, StageSummary } from './execution-store.ts';
import type { ExecutionRow } from './queries/executions.ts';
import { selectRuns, type ActionRunRow, type StageRunRow } from './queries/runs.ts';
import { parseStoredJson } from './ref-kinds.ts';

/** One execution's runs: its stages by name, and each stage's actions by name. */
interface Runs {
  stages: Map<string, StageRunRow>;
  actions: Map<string, Map<string, ActionRunRow>>;
}

/** The executions' full state as the engine sees it, in the order of `rows`. */
export async function loadExecutionStates(db: Db, rows: ExecutionRow[]): Promise<ExecutionState[]> {
  const runs = await loadRuns(db, rows);
  return rows.map((row) => toExecutionState(row, readDefinition(row), runs.get(row.id)!));
}

/** The executions as readers (CLI, web, Slack) see them, in the order of `rows`. */
export async function loadExecutionSummaries(db: Db, rows: ExecutionRow[]): Promise<ExecutionSummary[]> {
  const runs = await loadRuns(db, rows);
  return rows.map((row) => toExecutionSummary(row, runs.get(row.id)!));
}

/** Every row's runs, by execution id, in one query per table. */
async function loadRuns(db: Db, rows: ExecutionRow[]): Promise<Map<string, Runs>> {
  const byExecution = new Map<string, Runs>();
  for (const row of rows) byExecution.set(row.id, { stages: new Map(), actions: new Map() });
  if (rows.length === 0) return byExecution;
  const { stages, actions } = await selectRuns(db, [...byExecution.keys()]);
  for (const stage of stages) byExecution.get(stage.execution_id)?.stages.set(stage.stage, stage);
  for (const action of actions) {
    const runs = byExecution.get(action.execution_id);
    if (!runs) continue;
    let ofStage = runs.actions.get(action.stage);
    if (!ofStage) runs.actions.set(action.stage, (ofStage = new Map()));
    ofStage.set(action.action, action);
  }
  return byExecution;
}

function toExecutionState(row: ExecutionRow, definition: PipelineDefinition, runs: Runs): ExecutionState {
  const state: ExecutionState = {
    id: row.id,
    seq: row.seq,
    status: row.status as ExecutionStatus,
    revision: readColumn(row, 'revision', REVISION_FRAME) as Revision,
    definition,
    stages: {},
  };
  if (row.reason !== null) state.reason = row.reason;
  for (const stageDefinition of definition.stages) {
    const stageRow = runs.stages.get(stageDefinition.name);
    if (!stageRow) continue;
    const stage: StageState = { status: stageRow.status as StageStatus, attempt: stageRow.attempt, actions: {} };
    if (stageRow.waiting_since !== null) stage.waitingSince = stageRow.waiting_since;
    if (stageRow.reason !== null) stage.reason = stageRow.reason;
    const actionRows = runs.actions.get(stageDefinition.name);
    for (const actionDefinition of stageDefinition.actions) {
      const actionRow = actionRows?.get(actionDefinition.name);
      if (!actionRow) continue;
      const action: ActionState = { status: actionRow.status as ActionStatus, attempt: actionRow.attempt };
      if (actionRow.reason !== null) action.reason = actionRow.reason;
      stage.actions[actionDefinition.name] = action;
    }
    state.stages[stageDefinition.name] = stage;
  }
  return state;
}

/** The summary straight from the rows, in one pass over the definition. */
function toExecutionSummary(row: ExecutionRow, runs: Runs): ExecutionSummary {
  const definition = readDefinition(row);
  const stages: StageSummary[] = [];
  for (const stageDefinition of definition.stages) {
    const stageRow = runs.stages.get(stageDefinition.name);
    if (!stageRow) continue;
    const actions: ActionSummary[] = [];
    const actionRows = runs.actions.get(stageDefinition.name);
    for (const actionDefinition of stageDefinition.actions) {
      const actionRow = actionRows?.get(actionDefinition.name);
      if (!actionRow) continue;
      const action: ActionSummary = {
        name: actionDefinition.name,
        status: actionRow.status as ActionStatus,
        attempt: actionRow.attempt,
      };
      if (actionRow.reason !== null) action.reason = actionRow.reason;
      if (actionRow.started_at != null) action.startedAt = actionRow.started_at;
      if (actionRow.finished_at != null) action.finishedAt = actionRow.finished_at;
      actions.push(action);
    }
    const stage: StageSummary = {
      name: stageDefinition.name,
      status: stageRow.status as StageStatus,
      attempt: stageRow.attempt,
      actions,
    };
    if (stageRow.reason !== null) stage.reason = stageRow.reason;
    stages.push(stage);
  }
  const summary: ExecutionSummary = {
    id: row.id,
    pipelineId: row.pipeline_id,
    repo: row.repo,
    seq: row.seq,
    status: row.status as ExecutionStatus,
    revision: readColumn(row, 'revision', REVISION_FRAME) as Revision,
    trigger: row.trigger,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: Number(row.version),
    definition,
    stages,
  };
  if (row.reason !== null) summary.reason = row.reason;
  if (row.source !== null) summary.source = row.source;
  if (row.rerun_of !== null) summary.rerunOf = row.rerun_of;
  if (row.origin != null) summary.origin = row.origin;
  return summary;
}

/**
 * The frame of a stored definition that loading and the engine walk: its
 * stages and actions by name, and each action's spec under its kind. The
 * specs themselves were checked by the config's schema when the execution
 * was made.
 */
const DEFINITION_FRAME: z.ZodType = z.looseObject({
  mode: z.enum(EXECUTION_MODES),
  stages: z.array(
    z.looseObject({
      name: z.string(),
      needs: z.array(z.string()),
      actions: z.array(
        z
          .looseObject({
            name: z.string(),
            needs: z.array(z.string()),
            kind: z.enum(ACTION_KINDS),
          })
          .refine((action) => typeof (action as Record<string, unknown>)[action.kind] === 'object', {
            message: 'the action has no spec for its kind',
          }),
      ),
    }),
  ),
});

const REVISION_FRAME: z.ZodType = z.looseObject({ sha: z.string() });

function readDefinition(row: ExecutionRow): PipelineDefinition {
  // The frame is checked; the specs inside it are as the config's schema made them.
  return readColumn(row, 'definition', DEFINITION_FRAME) as PipelineDefinition;
}

/** A JSON column of an execution's row, checked against its frame; one that does not match names the execution. */
function readColumn<T>(row: ExecutionRow, column: 'definition' | 'revision', frame: z.ZodType<T>): T {
  const what = `The ${column} of execution ${row.id} (#${row.seq} of ${row.repo}) in the store`;
  return parseStoredJson(frame, row[column], what, 'Restore the row from a backup.');
}
