/**
 * Whether a re-run from GitHub (*Re-run*, *Retry*, *Re-run all checks*) of a
 * stage may go ahead, when the stage deploys to an environment with approval
 * rules. GitHub keeps every old check run's buttons, so without this anyone
 * who can press them would redeploy a months-old artifact to production. A
 * re-run of such a stage is refused when
 *  - a newer execution has since deployed to that environment: the old
 *    artifact is no longer the current release, and pushing again or
 *    rolling back says what is meant;
 *  - the GitHub user who pressed it may not, by the operator's rules
 *    (`github.retry`, or `slack.commands.retry` through `slack.people`).
 * The engine never lets a retried deploy out on an old approval, whoever
 * retries: an approval of its stage asks again, and one of an earlier stage,
 * which a retry cannot ask again, makes the retry refused.
 * Builds, and deploys to environments without approval rules, re-run as
 * before.
 */
import { approvalRules } from '../config/approval-rules.ts';
import type { ServerConfig } from '../config/server.schema.ts';
import { deployActions } from '../pipeline/definition.ts';
import { successfulDeploys } from '../runner/deploy-history.ts';
import { findActionSummary, type ExecutionStore, type ExecutionSummary } from '../store/store.ts';
import { checkGithubPermission, type SlackMembership } from './check-rollback-permission.ts';

export interface DeployRerunDeps {
  store: ExecutionStore;
  server?: ServerConfig | undefined;
  people?(): SlackMembership | undefined;
}

/** Why `login` may not re-run `stage` of `execution` from GitHub, or undefined when they may. */
export async function checkDeployRerun(
  deps: DeployRerunDeps,
  execution: ExecutionSummary,
  stage: string,
  login: string | undefined,
): Promise<string | undefined> {
  for (const { action } of deployActions(execution.definition, { stage })) {
    // A deploy that succeeded keeps its result on retry: only the ones that run again are judged.
    if (findActionSummary(execution, stage, action.name)?.status === 'succeeded') continue;
    const environment = action.deploy.environment;
    if (!approvalRules(deps.server, environment)) continue;
    const [current] = await successfulDeploys(deps.store, execution.pipelineId, environment);
    if (current && current.execution.seq > execution.seq) {
      return `#${execution.seq} is no longer the current release of ${environment} (${environment} runs #${current.execution.seq} now); push or roll back instead`;
    }
    const refused = await checkGithubPermission(deps.server, deps.people?.(), login, 'retry', environment);
    if (refused) return refused;
  }
  return undefined;
}
