/**
 * Re-runs from GitHub (PRODUCT G5): `rerequested` (the Re-run button) and
 * the Retry button (`requested_action`) retry the stage of that check run.
 * *Roll back* obeys the operator: only on the check run of the release the
 * environment runs now, only for a GitHub user the server config lets roll
 * back, and through an approval where the environment has approval rules.
 * A re-run of a deploy to an environment with approval rules obeys the
 * operator too (check-deploy-rerun). Check runs of other apps are left alone. A re-run Sluice cannot do (a
 * check run it has no record of, a stage that did not fail, an execution
 * gone) is answered on the check run with why (answer-rerun). Returns a
 * sentence for the inbox's record of the delivery.
 */
import { approvalRules } from '../config/approval-rules.ts';
import type { ServerConfig } from '../config/server.schema.ts';
import { EngineError } from '../pipeline/engine.ts';
import { successfulDeploys } from '../runner/deploy-history.ts';
import type { PipelineRunner } from '../runner/pipeline-runner.ts';
import type { ArtifactRecordStore, ExecutionStore, RefStore } from '../store/store.ts';
import { startRollback } from '../runner/start-rollback.ts';
import { checkRollbackPermission, type SlackMembership } from './check-rollback-permission.ts';
import { answerCheckRunRerun } from './answer-rerun.ts';
import { checkDeployRerun } from './check-deploy-rerun.ts';
import type { GithubApi } from './github-api.ts';
import type { CheckRunOwner } from './report-check-runs.ts';
import type { CheckRunPayload } from './webhook-payloads.ts';
import { deployActions } from '../pipeline/definition.ts';

export interface CheckRunDeps {
  store: ExecutionStore & ArtifactRecordStore & RefStore;
  runner: PipelineRunner;
  appId: number;
  api: GithubApi;
  server?: ServerConfig;
  /** Slack's view of who is who, once Slack is connected (user groups in slack.commands). */
  people?(): SlackMembership | undefined;
}

export async function handleCheckRun(deps: CheckRunDeps, payload: CheckRunPayload): Promise<string> {
  if (payload.check_run.app.id !== deps.appId) return 'a check run of another app';
  const wants =
    payload.action === 'rerequested'
      ? 'retry'
      : payload.action === 'requested_action'
        ? payload.requested_action?.identifier
        : undefined;
  if (wants === undefined) return `nothing to do for check_run.${payload.action}`;
  // A check run still in progress is Sluice's to update as its stage goes on: only a completed one is answered.
  const cannot = async (why: string): Promise<string> => {
    const run = payload.check_run;
    if (run.status !== 'completed') return why;
    const where = {
      repo: payload.repository.full_name,
      installation: payload.installation?.id,
      checkRunId: run.id,
      conclusion: run.conclusion,
      summary: run.output.summary,
    };
    return answerCheckRunRerun(deps.api, where, why);
  };
  const owner = await deps.store.getRef('check_run_id', String(payload.check_run.id));
  if (!owner) {
    const why = `check run ${payload.check_run.id} is not one of Sluice's executions: Sluice has no record of it.`;
    return wants === 'retry' ? cannot(why) : why;
  }
  const by = `github:${payload.sender.login}`;
  if (wants === 'rollback') return rollBack(deps, owner, payload.sender.login);
  if (wants !== 'retry') return `unknown action "${wants}"`;
  const execution = await deps.store.getExecution(owner.executionId);
  const refused = execution && (await checkDeployRerun(deps, execution, owner.stage, payload.sender.login));
  if (refused) return cannot(`not retried: ${refused}`);
  try {
    await deps.runner.dispatch(
      owner.pipelineId,
      { type: 'retry_stage', executionId: owner.executionId, stage: owner.stage, by },
      by,
    );
    return `retried stage ${owner.stage}`;
  } catch (error) {
    if (error instanceof EngineError) return cannot(`not retried: ${error.message}`);
    throw error;
  }
}

/** *Roll back* on a production deploy's check run: deploy again what ran before that deploy. */
async function rollBack(deps: CheckRunDeps, owner: CheckRunOwner, login: string | undefined): Promise<string> {
  const execution = await deps.store.getExecution(owner.executionId);
  const deploy = execution && deployActions(execution.definition, { stage: owner.stage })[0]?.action;
  if (!execution || !deploy) return `stage ${owner.stage} deploys nothing to roll back`;
  const environment = deploy.deploy.environment;
  const refused = await checkRollbackPermission(deps.server, deps.people?.(), login, environment);
  if (refused) return `not rolled back: ${refused}`;
  const [current] = await successfulDeploys(deps.store, owner.pipelineId, environment);
  if (current?.execution.id !== execution.id) {
    const now = current ? ` (${environment} runs #${current.execution.seq} now; roll back from its check run)` : '';
    return `not rolled back: this check run is of #${execution.seq}, not of the release ${environment} runs now${now}`;
  }
  const rules = approvalRules(deps.server, environment);
  const by = `github:${login}`;
  const result = await startRollback(deps.store, deps.runner, {
    pipelineId: owner.pipelineId,
    environment,
    by,
    from: execution.id,
    approve: !!rules && !rules.skipForRollbacks,
  });
  if (!result.ok) return `not rolled back: ${result.reason}`;
  const waits = rules && !rules.skipForRollbacks ? ', once approved' : '';
  return `rolling ${environment} back to #${result.to.seq} in execution #${result.execution.seq}${waits}`;
}
