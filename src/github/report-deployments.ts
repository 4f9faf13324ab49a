/**
 * A GitHub Deployment per deploy action (PRODUCT G4): created when its stage
 * starts, with statuses queued → in_progress → success / failure (error when
 * interrupted or cancelled), the environment URL, and the environment's
 * previous Deployment marked inactive once a new one succeeds. Ids are kept
 * in the store so repeats are idempotent.
 */
import type { ExecutionSummary, Store } from '../store/store.ts';
import { repoParams, type InstallationOctokit } from './github-api.ts';

type DeploymentState = 'queued' | 'in_progress' | 'success' | 'failure' | 'error' | 'inactive';

export interface DeploymentRef {
  id: number;
  environment: string;
  state: DeploymentState;
}

export interface EnvironmentInfo {
  url?: string;
  /** Guarded by an approval: shown on GitHub as a production environment. */
  production: boolean;
}

export async function syncDeployments(
  store: Store,
  octokit: InstallationOctokit,
  execution: ExecutionSummary,
  environmentInfo: (environment: string) => EnvironmentInfo,
  logUrl: (stage: string) => string,
  now: number,
): Promise<void> {
  const { owner, repo } = repoParams(execution.repo);
  for (const stageDefinition of execution.definition.stages) {
    const stage = execution.stages.find((s) => s.name === stageDefinition.name);
    if (!stage) continue;
    for (const definition of stageDefinition.actions) {
      if (definition.kind !== 'deploy') continue;
      const action = stage.actions.find((a) => a.name === definition.name);
      if (!action) continue;
      const key = `${execution.id}/${stage.name}/${action.name}/${action.attempt}`;
      const known = await store.getRef<DeploymentRef>('deployment', key);
      const wanted = desiredState(stage.status, action.status, known !== undefined);
      if (!wanted || known?.state === wanted) continue;
      const environment = definition.deploy.environment;
      const info = environmentInfo(environment);
      let id = known?.id;
      const last = known?.state;
      if (id === undefined) {
        const created = await octokit.rest.repos.createDeployment({
          owner,
          repo,
          ref: execution.revision.sha,
          environment,
          description: `Sluice execution #${execution.seq}: ${stage.name}/${action.name}`,
          auto_merge: false,
          // Sluice's own check runs are still running; they must not block it.
          required_contexts: [],
          payload: { sluice: { execution: execution.id, seq: execution.seq, stage: stage.name, action: action.name, attempt: action.attempt } },
          production_environment: info.production,
          transient_environment: false,
        });
        if (!('id' in created.data)) throw new Error(`GitHub did not create the Deployment: ${created.data.message ?? 'no id in its answer'}`);
        id = created.data.id;
        await store.putRef('deployment', key, { id, environment, state: 'queued' } satisfies DeploymentRef, now);
      }
      // Every Deployment shows the whole way, even when Sluice reports after a fast deploy already ended.
      const steps: DeploymentState[] = [];
      if (last === undefined) steps.push('queued');
      if ((wanted === 'success' || wanted === 'failure') && (last === undefined || last === 'queued')) steps.push('in_progress');
      if (!steps.includes(wanted)) steps.push(wanted);
      for (const state of steps) {
        await octokit.rest.repos.createDeploymentStatus({
          owner,
          repo,
          deployment_id: id,
          state,
          log_url: logUrl(stage.name),
          ...(info.url && { environment_url: info.url }),
          description: ((state === wanted ? action.reason : undefined) ?? describe(state)).slice(0, 140),
          // Sluice marks the previous Deployment inactive itself, so the records say who did.
          auto_inactive: false,
        });
      }
      await store.putRef('deployment', key, { id, environment, state: wanted } satisfies DeploymentRef, now);
      if (wanted === 'success') await retirePrevious(store, octokit, execution.repo, environment, id, now);
    }
  }
}

function desiredState(stageStatus: string, actionStatus: string, created: boolean): DeploymentState | undefined {
  switch (actionStatus) {
    case 'pending':
      return stageStatus === 'running' ? 'queued' : undefined;
    case 'running':
      return 'in_progress';
    case 'succeeded':
      return 'success';
    case 'failed':
      return 'failure';
    case 'interrupted':
    case 'cancelled':
    case 'superseded':
      return created ? 'error' : undefined;
    default:
      return undefined;
  }
}

function describe(state: DeploymentState): string {
  return { queued: 'Waiting for its turn', in_progress: 'Deploying', success: 'Deployed', failure: 'Deploy failed', error: 'Stopped', inactive: 'Replaced by a newer deploy' }[state];
}

async function retirePrevious(store: Store, octokit: InstallationOctokit, fullName: string, environment: string, id: number, now: number): Promise<void> {
  const key = `${fullName}:${environment}`;
  const previous = await store.getRef<{ id: number }>('deployment_active', key);
  if (previous && previous.id !== id) {
    await octokit.rest.repos.createDeploymentStatus({ ...repoParams(fullName), deployment_id: previous.id, state: 'inactive', description: describe('inactive') });
  }
  await store.putRef('deployment_active', key, { id }, now);
}
