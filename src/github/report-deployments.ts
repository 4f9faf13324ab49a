/**
 * A GitHub Deployment per deploy action (PRODUCT G4): created when its stage
 * starts, with statuses queued → in_progress → success / failure (error when
 * interrupted or cancelled), the environment URL, and the environment's
 * previous Deployment marked inactive once a new one succeeds. Ids are kept
 * in the store so repeats are idempotent. A write GitHub refuses is logged
 * once and passed over; the execution's other reports go on.
 */
import { successfulDeploys } from '../runner/deploy-history.ts';
import { type ExecutionSummary, findActionSummary, findStageSummary } from '../store/store.ts';
import { deployActions } from '../pipeline/definition.ts';
import { repoParams } from './github-api.ts';
import { refusalOf } from './github-refusal.ts';
import { SluiceError } from '../sluice-error.ts';
import { deploymentTarget, type DeploymentState, type DeploymentTarget } from './deployment-target.ts';
import { releaseClaim, type ReportContext } from './report-check-runs.ts';
import { holdingCreation } from '../store/keep-lease.ts';

export interface DeploymentRef {
  id: number;
  environment: string;
  state: DeploymentState;
}

declare module '../store/ref-store.ts' {
  interface RefKinds {
    deployment: DeploymentRef;
    /** A Deployment GitHub would not take (or lost): not tried again. */
    deployment_refused: { status: number };
    /**
     * The Deployment an environment of a repository runs, by `<repo>:<environment>`: made inactive when a newer one
     * succeeds.
     */
    deployment_active: { id: number };
  }
}

export interface EnvironmentInfo {
  url?: string;
  /** Guarded by an approval: shown on GitHub as a production environment. */
  production: boolean;
}

export async function syncDeployments(
  ctx: ReportContext,
  execution: ExecutionSummary,
  environmentInfo: (environment: string) => EnvironmentInfo,
  logUrl: (stage: string) => string,
): Promise<void> {
  const { store, now } = ctx;
  for (const { stage: stageName, action: definition } of deployActions(execution.definition)) {
    const stage = findStageSummary(execution, stageName);
    if (!stage) continue;
    const action = findActionSummary(execution, stage.name, definition.name);
    if (!action) continue;
    const key = `${execution.id}/${stage.name}/${action.name}/${action.attempt}`;
    if (await store.getRef('deployment_refused', key)) continue;
    const targetOf = (ref: DeploymentRef | undefined) =>
      deploymentTarget(execution, stage.name, action.name, ref !== undefined);
    // Statuses only go forward: a view read before the one last reported (another replica's, or one
    // that waited) is old news, and so is one that says what the Deployment already says.
    const wants = (ref: DeploymentRef | undefined) => {
      const next = targetOf(ref);
      return next !== undefined && (ref === undefined || STEP[next.state] > STEP[ref.state]);
    };
    if (!wants(await store.getRef('deployment', key))) continue;
    const environment = definition.deploy.environment;
    const what = `Deployment of ${stage.name}/${action.name} to ${environment} for ${execution.repo} execution #${execution.seq}`;
    // Claimed before GitHub is asked, so two replicas reporting the same deploy create one Deployment
    // and send each of its statuses once, in order.
    const claimed = await store.claimCreation('deployment', key, { ...ctx.claim, now: ctx.clock() }, wants);
    if (claimed.decision === 'claimed-elsewhere') {
      ctx.claimedElsewhere.push(what);
      continue;
    }
    if (claimed.decision === 'made') continue;
    const { token, value: known } = claimed;
    const target = targetOf(known)!;
    const finish = async (ref: DeploymentRef | undefined) => {
      await store.finishCreation('deployment', key, token, ref, now);
    };
    try {
      // Renewed while GitHub takes its time (rate limits waited out): the claim stands while this replica lives.
      await holdingCreation(store, { kind: 'deployment', key, token, ...ctx.claim, clock: ctx.clock }, () =>
        advanceDeployment(ctx, execution, stage.name, action.name, environment, key, known, target, what, {
          info: environmentInfo(environment),
          logUrl: logUrl(stage.name),
          finish,
        }),
      );
    } catch (error) {
      await releaseClaim(ctx, { kind: 'deployment', key, token });
      throw error;
    }
  }
}

/** How far along a Deployment's statuses are: one is sent only to go further. */
const STEP: Record<DeploymentState, number> = {
  queued: 0,
  in_progress: 1,
  success: 2,
  failure: 2,
  error: 2,
  inactive: 2,
};

/**
 * Creates the Deployment if it has none yet, and sends the statuses that bring it to `target`, under the claim `finish`
 * ends.
 */
async function advanceDeployment(
  ctx: ReportContext,
  execution: ExecutionSummary,
  stageName: string,
  actionName: string,
  environment: string,
  key: string,
  known: DeploymentRef | undefined,
  target: DeploymentTarget,
  what: string,
  options: { info: EnvironmentInfo; logUrl: string; finish: (ref: DeploymentRef | undefined) => Promise<void> },
): Promise<void> {
  const { store, octokit, now } = ctx;
  const { owner, repo } = repoParams(execution.repo);
  const { info, finish } = options;
  const attempt = findActionSummary(execution, stageName, actionName)?.attempt;
  const wanted = target.state;
  let id = known?.id;
  const last = known?.state;
  if (id === undefined) {
    try {
      const created = await octokit.rest.repos.createDeployment({
        owner,
        repo,
        ref: execution.revision.sha,
        environment,
        description: `Sluice execution #${execution.seq}: ${stageName}/${actionName}`,
        auto_merge: false,
        // Sluice's own check runs are still running; they must not block it.
        required_contexts: [],
        payload: {
          sluice: {
            execution: execution.id,
            seq: execution.seq,
            stage: stageName,
            action: actionName,
            attempt,
          },
        },
        production_environment: info.production,
        transient_environment: false,
      });
      if (!('id' in created.data))
        throw new SluiceError(
          'GITHUB_REPORT_FAILED',
          `GitHub did not create the Deployment: ${created.data.message ?? 'no id in its answer'}`,
        );
      id = created.data.id;
    } catch (error) {
      const refusal = refusalOf(error);
      if (!refusal) throw error;
      ctx.refusals.note(what, refusal, 'the deploy shows on its check run only');
      await store.putRef('deployment_refused', key, { status: refusal.status }, now);
      await finish(undefined);
      return;
    }
    // Kept at once (the claim stays), so that a status GitHub fails to take never leads to a second Deployment.
    await store.putRef('deployment', key, { id, environment, state: 'queued' } satisfies DeploymentRef, now);
  }
  // Every Deployment shows the whole way, even when Sluice reports after a fast deploy already ended.
  const steps: DeploymentState[] = [];
  if (last === undefined) steps.push('queued');
  if ((wanted === 'success' || wanted === 'failure') && (last === undefined || last === 'queued'))
    steps.push('in_progress');
  if (!steps.includes(wanted)) steps.push(wanted);
  let gone = false;
  for (const state of steps) {
    try {
      await octokit.rest.repos.createDeploymentStatus({
        owner,
        repo,
        deployment_id: id,
        state,
        log_url: options.logUrl,
        ...(info.url && { environment_url: info.url }),
        description: shorten((state === wanted ? target.description : undefined) ?? describe(state)),
        // Sluice marks the previous Deployment inactive itself, so the records say who did.
        auto_inactive: false,
      });
    } catch (error) {
      const refusal = refusalOf(error);
      if (!refusal) throw error;
      gone = refusal.status === 404;
      ctx.refusals.note(
        `${state} status of the ${what}`,
        refusal,
        gone ? 'the Deployment is gone, so Sluice reports no more of it' : 'Sluice goes on with its next status',
      );
      if (gone) break;
    }
  }
  if (gone) {
    await store.putRef('deployment_refused', key, { status: 404 }, now);
    await finish(undefined);
    return;
  }
  let state = wanted;
  if (wanted === 'success') {
    // Reports of two deploys may arrive in either order (two replicas, a report that waited): only the
    // environment's newest deploy is its active Deployment; an older one that succeeded is replaced at once.
    const [newest] = await successfulDeploys(store, execution.pipelineId, environment);
    const replaced = newest !== undefined && (newest.execution.id !== execution.id || newest.action !== actionName);
    if (replaced) {
      state = 'inactive';
      await octokit.rest.repos
        .createDeploymentStatus({ owner, repo, deployment_id: id, state, description: describe(state) })
        .catch((error: unknown) => {
          const refusal = refusalOf(error);
          if (!refusal) throw error;
          ctx.refusals.note(`inactive status of the ${what}`, refusal, 'Sluice goes on');
        });
    } else await retirePrevious(ctx, execution.repo, environment, id);
  }
  await finish({ id, environment, state });
}

/** GitHub's limit of a deployment status's description: 140 characters, cut at a whole one. */
export function shorten(text: string, limit = 140): string {
  if (text.length <= limit) return text;
  let cut = text.slice(0, limit - 1);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}

function describe(state: DeploymentState): string {
  return {
    queued: 'Waiting for its turn',
    in_progress: 'Deploying',
    success: 'Deployed',
    failure: 'Deploy failed',
    error: 'Stopped',
    inactive: 'Replaced by a newer deploy',
  }[state];
}

/**
 * Marks the environment's previous Deployment inactive. GitHub's environment
 * names ignore case ("Dev" and "dev" are one environment there), so the
 * active Deployment is kept under the lower-cased name; one kept by an
 * earlier version under the name as written is still found.
 */
async function retirePrevious(ctx: ReportContext, fullName: string, environment: string, id: number): Promise<void> {
  const key = `${fullName}:${environment.toLowerCase()}`;
  const asWritten = `${fullName}:${environment}`;
  const previous =
    (await ctx.store.getRef('deployment_active', key)) ?? (await ctx.store.getRef('deployment_active', asWritten));
  if (previous && previous.id !== id) {
    try {
      await ctx.octokit.rest.repos.createDeploymentStatus({
        ...repoParams(fullName),
        deployment_id: previous.id,
        state: 'inactive',
        description: describe('inactive'),
      });
    } catch (error) {
      const refusal = refusalOf(error);
      if (!refusal) throw error;
      ctx.refusals.note(
        `inactive status of the previous Deployment to ${environment} of ${fullName}`,
        refusal,
        'Sluice goes on',
      );
    }
  }
  await ctx.store.putRef('deployment_active', key, { id }, ctx.now);
}
