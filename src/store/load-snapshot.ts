/** Reads one pipeline's snapshot: what the engine needs to take its next step. */
import type { PipelineSnapshot, TransitionState } from '../pipeline/snapshot.ts';
import type { Db } from './database.ts';
import { loadExecutionStates } from './load-executions.ts';
import { selectSnapshotExecutions } from './queries/executions.ts';
import { selectTransitions } from './queries/transitions.ts';

/** The pipeline's running executions plus those in `include` (oldest first), and its transitions. */
export async function loadSnapshot(db: Db, pipelineId: string, include: string[]): Promise<PipelineSnapshot> {
  const rows = await selectSnapshotExecutions(db, pipelineId, include);
  const executions = await loadExecutionStates(db, rows);
  const transitions: Record<string, TransitionState> = {};
  for (const row of await selectTransitions(db, pipelineId)) {
    const transition: TransitionState = { enabled: row.enabled === 1, actor: row.actor, at: row.at };
    if (row.reason !== null) transition.reason = row.reason;
    transitions[row.stage] = transition;
  }
  return { pipelineId, transitions, executions };
}
