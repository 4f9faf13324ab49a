/**
 * *Re-run all checks* (PRODUCT G5): GitHub sends `check_suite.rerequested`
 * for the commit, and Sluice retries the failed stage of each of its
 * executions of that commit (the newest per pipeline, as the check runs on
 * the commit show). When there is nothing it can re-run, it says why in a
 * check run of the suite (answer-rerun), so the suite does not stay queued.
 * A deploy to an environment with approval rules obeys the operator
 * (check-deploy-rerun), as on a single check run.
 * Returns a sentence for the inbox's record of the delivery.
 */
import { EngineError } from '../pipeline/engine.ts';
import { isStoppedShort } from '../pipeline/states.ts';
import type { PipelineRunner } from '../runner/pipeline-runner.ts';
import type { ExecutionStore, ExecutionSummary } from '../store/store.ts';
import { answerSuiteRerun } from './answer-rerun.ts';
import { checkDeployRerun, type DeployRerunDeps } from './check-deploy-rerun.ts';
import type { GithubApi } from './github-api.ts';
import type { CheckSuitePayload } from './webhook-payloads.ts';

/** How far back, per pipeline, an execution of the commit is looked for. */
const SEARCHED = 50;

export interface CheckSuiteDeps extends DeployRerunDeps {
  store: ExecutionStore;
  runner: PipelineRunner;
  appId: number;
  api: GithubApi;
}

export async function handleCheckSuite(deps: CheckSuiteDeps, payload: CheckSuitePayload): Promise<string> {
  if (payload.check_suite.app.id !== deps.appId) return 'a check suite of another app';
  if (payload.action !== 'rerequested') return `nothing to do for check_suite.${payload.action}`;
  const repo = payload.repository.full_name;
  const sha = payload.check_suite.head_sha;
  const by = `github:${payload.sender.login}`;
  const executions = await newestOf(deps.store, repo, sha);
  const retried: string[] = [];
  const refused: string[] = [];
  for (const execution of executions) {
    const stage = execution.stages.find((s) => isStoppedShort(s.status));
    if (!stage) {
      refused.push(`execution #${execution.seq} is ${execution.status} and has no failed stage`);
      continue;
    }
    const full = await deps.store.getExecution(execution.id);
    const refusedHere = full && (await checkDeployRerun(deps, full, stage.name, payload.sender.login));
    if (refusedHere) {
      refused.push(`stage ${stage.name} of execution #${execution.seq} is not re-run: ${refusedHere}`);
      continue;
    }
    try {
      await deps.runner.dispatch(
        execution.pipelineId,
        { type: 'retry_stage', executionId: execution.id, stage: stage.name, by },
        by,
      );
      retried.push(`stage ${stage.name} of execution #${execution.seq}`);
    } catch (error) {
      if (!(error instanceof EngineError)) throw error;
      refused.push(error.message);
    }
  }
  if (retried.length > 0) return `retried ${retried.join(', ')}`;
  const short = sha.slice(0, 7);
  const why =
    executions.length === 0
      ? `Sluice has no execution of ${short} in ${repo} to run again (none among the newest ${SEARCHED} of each pipeline).`
      : `Sluice has nothing of ${short} to run again: ${refused.join('; ')}.`;
  return answerSuiteRerun(deps.api, { repo, installation: payload.installation?.id, headSha: sha }, why);
}

/** The newest execution of `sha` in each of the repository's pipelines. */
async function newestOf(store: ExecutionStore, repo: string, sha: string): Promise<ExecutionSummary[]> {
  const found: ExecutionSummary[] = [];
  for (const pipeline of await store.listPipelines(repo)) {
    const executions = await store.listExecutions({ pipelineId: pipeline.id, limit: SEARCHED });
    const newest = executions.find((e) => e.revision.sha === sha);
    if (newest) found.push(newest);
  }
  return found;
}
