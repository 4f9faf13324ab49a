import type { PipelineDefinition } from './definition.ts';
import type { ExecutionState, Revision, StageState } from './snapshot.ts';

/** A fresh execution: running, with every stage and action pending on attempt 1. */
export function newExecutionState(
  id: string,
  seq: number,
  revision: Revision,
  definition: PipelineDefinition,
): ExecutionState {
  const stages: Record<string, StageState> = {};
  for (const stage of definition.stages) {
    stages[stage.name] = {
      status: 'pending',
      attempt: 1,
      actions: Object.fromEntries(stage.actions.map((a) => [a.name, { status: 'pending', attempt: 1 }])),
    };
  }
  return { id, seq, status: 'running', revision, definition, stages };
}
