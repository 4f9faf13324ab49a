/**
 * One check run per stage of an execution (PRODUCT G2), created when the
 * execution starts and updated as it moves. Check-run ids are kept in the
 * store, so a restart updates the same check runs. A stage that runs again
 * after its check run completed (a retry) gets a new check run, as GitHub
 * asks of re-requested checks.
 */
import type { ExecutionSummary, Store } from '../store/store.ts';
import { checkRunView, type StageLogs } from './check-run-view.ts';
import { repoParams, type InstallationOctokit } from './github-api.ts';

export interface CheckRunRef {
  id: number;
  /** What was last sent, to skip updates that change nothing. */
  sent: string;
  completed: boolean;
}

/** Where a check-run id leads back to (for re-run requests). */
export interface CheckRunOwner {
  executionId: string;
  pipelineId: string;
  stage: string;
}

export async function syncCheckRuns(
  store: Store,
  octokit: InstallationOctokit,
  execution: ExecutionSummary,
  detailsUrl: (stage: string) => string,
  now: number,
  only: (stage: string) => boolean = () => true,
  canRollBack: (stage: string) => boolean = () => false,
): Promise<void> {
  const { owner, repo } = repoParams(execution.repo);
  for (const stage of execution.stages.filter((s) => only(s.name))) {
    const logs: StageLogs = {};
    for (const action of stage.actions) {
      logs[action.name] = await store.readLog({ executionId: execution.id, stage: stage.name, action: action.name, attempt: action.attempt });
    }
    const url = detailsUrl(stage.name);
    const view = checkRunView(execution, stage.name, logs, url, { rollback: canRollBack(stage.name) });
    const sent = JSON.stringify(view);
    const key = `${execution.id}/${stage.name}`;
    const known = await store.getRef<CheckRunRef>('check_run', key);
    if (known?.sent === sent) continue;
    const body = {
      owner,
      repo,
      name: view.name,
      details_url: url,
      external_id: key,
      status: view.status,
      ...(view.conclusion && { conclusion: view.conclusion }),
      ...(view.started_at && { started_at: view.started_at }),
      ...(view.completed_at && { completed_at: view.completed_at }),
      output: view.output,
      actions: view.actions,
    };
    let id = known?.id;
    if (id === undefined || (known?.completed && view.status !== 'completed')) {
      const created = await octokit.rest.checks.create({ ...body, head_sha: execution.revision.sha });
      id = created.data.id;
      await store.putRef('check_run_id', String(id), { executionId: execution.id, pipelineId: execution.pipelineId, stage: stage.name } satisfies CheckRunOwner, now);
    } else {
      await octokit.rest.checks.update({ ...body, check_run_id: id });
    }
    await store.putRef('check_run', key, { id, sent, completed: view.status === 'completed' } satisfies CheckRunRef, now);
  }
}
