/**
 * Turns execution rows into the engine's `ExecutionState`s and the readers'
 * `ExecutionSummary`s, fetching their stage and action runs in one go.
 * Stages and actions keep the order of the execution's own definition.
 */
import { z } from 'zod';
import type { PipelineDefinition } from '../pipeline/definition.ts';
import type { ActionState, ExecutionState, Revision, StageState } from '../pipeline/snapshot.ts';
import type { ActionStatus, ExecutionStatus, StageStatus } from '../pipeline/states.ts';
import type { Db } from './database.ts';
import type { ExecutionRow } from './queries/executions.ts';
import { selectRuns, type ActionRunRow, type StageRunRow } from './queries/runs.ts';
import { parseStoredJson } from './ref-kinds.ts';
import type { ExecutionSummary } from './store.ts';

interface Loaded {
  row: ExecutionRow;
  definition: PipelineDefinition;
  stages: Map<string, StageRunRow>;
  actions: Map<string, ActionRunRow>;
}

/** The executions' full state as the engine sees it, in the order of `rows`. */
export async function loadExecutionStates(db: Db, rows: ExecutionRow[]): Promise<ExecutionState[]> {
  return (await loadRuns(db, rows)).map(toExecutionState);
}

/** The executions as readers (CLI, web, Slack) see them, in the order of `rows`. */
export async function loadExecutionSummaries(db: Db, rows: ExecutionRow[]): Promise<ExecutionSummary[]> {
  return (await loadRuns(db, rows)).map(toExecutionSummary);
}

async function loadRuns(db: Db, rows: ExecutionRow[]): Promise<Loaded[]> {
  const runs = await selectRuns(
    db,
    rows.map((r) => r.id),
  );
  const loaded = new Map<string, Loaded>(
    rows.map((row) => [row.id, { row, definition: readDefinition(row), stages: new Map(), actions: new Map() }]),
  );
  for (const stage of runs.stages) loaded.get(stage.execution_id)?.stages.set(stage.stage, stage);
  for (const action of runs.actions)
    loaded.get(action.execution_id)?.actions.set(`${action.stage}\0${action.action}`, action);
  return [...loaded.values()];
}

function toExecutionState({ row, definition, stages, actions }: Loaded): ExecutionState {
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
    const stageRow = stages.get(stageDefinition.name);
    if (!stageRow) continue;
    const stage: StageState = { status: stageRow.status as StageStatus, attempt: stageRow.attempt, actions: {} };
    if (stageRow.waiting_since !== null) stage.waitingSince = stageRow.waiting_since;
    if (stageRow.reason !== null) stage.reason = stageRow.reason;
    for (const actionDefinition of stageDefinition.actions) {
      const actionRow = actions.get(`${stageDefinition.name}\0${actionDefinition.name}`);
      if (!actionRow) continue;
      const action: ActionState = { status: actionRow.status as ActionStatus, attempt: actionRow.attempt };
      if (actionRow.reason !== null) action.reason = actionRow.reason;
      stage.actions[actionDefinition.name] = action;
    }
    state.stages[stageDefinition.name] = stage;
  }
  return state;
}

function toExecutionSummary(loaded: Loaded): ExecutionSummary {
  const { row, definition, actions } = loaded;
  const state = toExecutionState(loaded);
  const summary: ExecutionSummary = {
    id: row.id,
    pipelineId: row.pipeline_id,
    repo: row.repo,
    seq: row.seq,
    status: state.status,
    revision: state.revision,
    trigger: row.trigger,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: Number(row.version),
    definition,
    stages: Object.entries(state.stages).map(([name, stage]) => ({
      name,
      status: stage.status,
      attempt: stage.attempt,
      ...(stage.reason !== undefined && { reason: stage.reason }),
      actions: Object.entries(stage.actions).map(([actionName, action]) => {
        const actionRow = actions.get(`${name}\0${actionName}`);
        return {
          name: actionName,
          status: action.status,
          attempt: action.attempt,
          ...(action.reason !== undefined && { reason: action.reason }),
          ...(actionRow?.started_at != null && { startedAt: actionRow.started_at }),
          ...(actionRow?.finished_at != null && { finishedAt: actionRow.finished_at }),
        };
      }),
    })),
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
  mode: z.enum(['superseded', 'queued']),
  stages: z.array(
    z.looseObject({
      name: z.string(),
      needs: z.array(z.string()),
      actions: z.array(
        z
          .looseObject({
            name: z.string(),
            needs: z.array(z.string()),
            kind: z.enum(['build', 'deploy', 'approval', 'command']),
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
