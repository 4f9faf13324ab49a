/**
 * Re-runs from GitHub (PRODUCT G5): `rerequested` (the Re-run button) and
 * the Retry button (`requested_action`) retry the stage of that check run.
 * Check runs of other apps are left alone. A re-run Sluice cannot do (a
 * check run it has no record of, a stage that did not fail, an execution
 * gone) is answered on the check run with why (answer-rerun). Returns a
 * sentence for the inbox's record of the delivery.
 */
import { EngineError } from '../pipeline/engine.ts';
import type { PipelineRunner } from '../runner/pipeline-runner.ts';
import type { Store } from '../store/store.ts';
import { startRollback } from '../runner/start-rollback.ts';
import { answerCheckRunRerun } from './answer-rerun.ts';
import type { GithubApi } from './github-api.ts';
import type { CheckRunOwner } from './report-check-runs.ts';
import type { CheckRunPayload } from './webhook-payloads.ts';

export interface CheckRunDeps {
  store: Store;
  runner: PipelineRunner;
  appId: number;
  api: GithubApi;
}

export async function handleCheckRun(deps: CheckRunDeps, payload: CheckRunPayload): Promise<string> {
  if (payload.check_run.app.id !== deps.appId) return 'a check run of another app';
  const wants =
    payload.action === 'rerequested' ? 'retry' : payload.action === 'requested_action' ? payload.requested_action?.identifier : undefined;
  if (wants === undefined) return `nothing to do for check_run.${payload.action}`;
  // A check run still in progress is Sluice's to update as its stage goes on: only a completed one is answered.
  const cannot = async (why: string): Promise<string> => {
    const run = payload.check_run;
    if (run.status !== 'completed') return why;
    const where = { repo: payload.repository.full_name, installation: payload.installation?.id, checkRunId: run.id, conclusion: run.conclusion, summary: run.output.summary };
    return answerCheckRunRerun(deps.api, where, why);
  };
  const owner = await deps.store.getRef<CheckRunOwner>('check_run_id', String(payload.check_run.id));
  if (!owner) {
    const why = `check run ${payload.check_run.id} is not one of Sluice's executions: Sluice has no record of it.`;
    return wants === 'retry' ? cannot(why) : why;
  }
  const by = `github:${payload.sender.login}`;
  if (wants === 'rollback') return rollBack(deps, owner, by);
  if (wants !== 'retry') return `unknown action "${wants}"`;
  try {
    await deps.runner.dispatch(owner.pipelineId, { type: 'retry_stage', executionId: owner.executionId, stage: owner.stage, by }, by);
    return `retried stage ${owner.stage}`;
  } catch (error) {
    if (error instanceof EngineError) return cannot(`not retried: ${error.message}`);
    throw error;
  }
}

/** *Roll back* on a production deploy's check run: deploy again what ran before that deploy. */
async function rollBack(deps: CheckRunDeps, owner: CheckRunOwner, by: string): Promise<string> {
  const execution = await deps.store.getExecution(owner.executionId);
  const stage = execution?.definition.stages.find((s) => s.name === owner.stage);
  const deploy = stage?.actions.find((a) => a.kind === 'deploy');
  if (!execution || !deploy || deploy.kind !== 'deploy') return `stage ${owner.stage} deploys nothing to roll back`;
  const result = await startRollback(deps.store, deps.runner, { pipelineId: owner.pipelineId, environment: deploy.deploy.environment, by, from: execution.id });
  if (!result.ok) return `not rolled back: ${result.reason}`;
  return `rolling ${deploy.deploy.environment} back to #${result.to.seq} in execution #${result.execution.seq}`;
}
