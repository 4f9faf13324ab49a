/**
 * What an environment ran, from the executions of a pipeline: its
 * successful deploys, newest first. Rollbacks deploy an older one again;
 * approval cards compare against the newest one.
 */
import type { ExecutionSummary, Store } from '../store/store.ts';

export interface DeployDone {
  execution: ExecutionSummary;
  stage: string;
  action: string;
  artifact: string;
}

/** How far back Sluice looks for earlier releases. */
const HISTORY = 200;

/** Successful deploys to `environment` by this pipeline, newest first. */
export async function successfulDeploys(store: Store, pipelineId: string, environment: string): Promise<DeployDone[]> {
  const executions = await store.listExecutions({ pipelineId, limit: HISTORY });
  return executions.flatMap((execution) => deploysOf(execution, environment));
}

function deploysOf(execution: ExecutionSummary, environment: string): DeployDone[] {
  const done: DeployDone[] = [];
  for (const stage of execution.definition.stages) {
    for (const action of stage.actions) {
      if (action.kind !== 'deploy' || action.deploy.environment !== environment) continue;
      const state = execution.stages.find((s) => s.name === stage.name)?.actions.find((a) => a.name === action.name);
      if (state?.status === 'succeeded') done.push({ execution, stage: stage.name, action: action.name, artifact: action.deploy.artifact });
    }
  }
  return done;
}
