/**
 * What an environment ran, from the executions of a pipeline: its
 * successful deploys, newest first. Rollbacks deploy an older one again;
 * approval cards compare against the newest one.
 */
import { type ExecutionStore, type ExecutionSummary, findActionSummary } from '../store/store.ts';
import { deployActions } from '../pipeline/definition.ts';

export interface DeployDone {
  execution: ExecutionSummary;
  stage: string;
  action: string;
  artifact: string;
}

/** How far back Sluice looks for earlier releases. */
const HISTORY = 200;

/** Successful deploys to `environment` by this pipeline, newest first. */
export async function successfulDeploys(
  store: ExecutionStore,
  pipelineId: string,
  environment: string,
): Promise<DeployDone[]> {
  const executions = await store.listExecutions({ pipelineId, limit: HISTORY });
  return executions.flatMap((execution) => deploysOf(execution, environment));
}

/** Successful deploys in these executions (newest first) by environment, in the same order. */
export function deploysByEnvironment(executions: ExecutionSummary[]): Map<string, DeployDone[]> {
  const byEnvironment = new Map<string, DeployDone[]>();
  for (const execution of executions) {
    for (const done of deploysOf(execution)) {
      const list = byEnvironment.get(done.environment) ?? [];
      list.push(done);
      byEnvironment.set(done.environment, list);
    }
  }
  return byEnvironment;
}

function deploysOf(execution: ExecutionSummary, environment?: string): Array<DeployDone & { environment: string }> {
  const done: Array<DeployDone & { environment: string }> = [];
  for (const { stage, action } of deployActions(execution.definition, { environment })) {
    const state = findActionSummary(execution, stage, action.name);
    if (state?.status === 'succeeded')
      done.push({
        execution,
        stage,
        action: action.name,
        artifact: action.deploy.artifact,
        environment: action.deploy.environment,
      });
  }
  return done;
}
