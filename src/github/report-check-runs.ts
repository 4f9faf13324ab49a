/**
 * One check run per stage of an execution (PRODUCT G2), created when the
 * execution starts and updated as it moves. Check-run ids are kept in the
 * store, so a restart updates the same check runs. A stage that runs again
 * after its check run completed (a retry) gets a new check run, as GitHub
 * asks of re-requested checks. Views are ordered by the execution's
 * version: of two replicas reporting, or a report that waited, the older
 * view never replaces a newer one. A check run GitHub refuses is sent again
 * smaller (a shorter log, then the state alone); one it will not take at
 * all is logged and left, and the other stages are reported all the same.
 */
import type { ExecutionStore, LogStore, RefStore, ExecutionSummary } from '../store/store.ts';
import { checkRunView, OUTPUT_LIMIT, type CheckRunView, type StageLogs } from './check-run-view.ts';
import { repoParams, type InstallationOctokit } from './github-api.ts';
import { refusalOf, type GithubRefusal, type RefusalLog } from './github-refusal.ts';
import { holdingCreation } from '../store/keep-lease.ts';

export interface CheckRunRef {
  /** Unset while GitHub refused to create it. */
  id?: number;
  /** What was last sent, to skip updates that change nothing. */
  sent: string;
  completed: boolean;
  /**
   * The version of the execution it last showed: a view of an older one is not sent (unset: recorded before versions).
   */
  version?: number;
  /** How far down OUTPUT_LIMITS GitHub last took it: later updates start there, not with a write it refuses. */
  level?: number;
}

/** Where a check-run id leads back to (for re-run requests). */
export interface CheckRunOwner {
  executionId: string;
  pipelineId: string;
  stage: string;
}

declare module '../store/ref-store.ts' {
  interface RefKinds {
    check_run: CheckRunRef;
    /** A check run's id, to find what it reports when a person asks for it again. */
    check_run_id: CheckRunOwner;
  }
}

/** What both reports need: the store, an installation's client, the time and where refusals are told. */
export interface ReportContext {
  store: ExecutionStore & LogStore & RefStore;
  octokit: InstallationOctokit;
  now: number;
  /** Sluice's clock, for claims taken and renewed as the report goes on (`now` is its start). */
  clock: () => number;
  refusals: RefusalLog;
  /** Who claims the creations of this report (one per replica), and for how long a claim holds. */
  claim: { owner: string; leaseMs: number };
  /** Where a creation another replica has claimed is noted: the report is made again once it has recorded it. */
  claimedElsewhere: string[];
  /**
   * Claims of this replica a failed write could not give back (the store was
   * away too): given back before the next report, or the claim would stand
   * for its whole lease and hold back every report of it.
   */
  unreleased: UnreleasedClaim[];
}

export interface UnreleasedClaim {
  kind: 'check_run' | 'deployment';
  key: string;
  token: string;
}

/** Gives back the claims `ctx.unreleased` holds; those the store still cannot take stay for the next report. */
export async function releaseLeftClaims(ctx: Pick<ReportContext, 'store' | 'now' | 'unreleased'>): Promise<void> {
  for (const left of ctx.unreleased.splice(0)) {
    await ctx.store.finishCreation(left.kind, left.key, left.token, undefined, ctx.now).catch(() => {
      ctx.unreleased.push(left);
    });
  }
}

/** Gives back a claim after a failed write; if the store is away, keeps it for `releaseLeftClaims`. */
export async function releaseClaim(
  ctx: Pick<ReportContext, 'store' | 'now' | 'unreleased'>,
  claim: UnreleasedClaim,
): Promise<void> {
  await ctx.store.finishCreation(claim.kind, claim.key, claim.token, undefined, ctx.now).catch(() => {
    ctx.unreleased.push(claim);
  });
}

/**
 * The output sizes tried in turn when GitHub refuses a check run (422): GitHub's limit, a shorter log, the state alone.
 */
const OUTPUT_LIMITS = [OUTPUT_LIMIT, 16_384, 1_024];

export async function syncCheckRuns(
  ctx: ReportContext,
  execution: ExecutionSummary,
  detailsUrl: (stage: string) => string,
  only: (stage: string) => boolean = () => true,
  canRollBack: (stage: string) => boolean = () => false,
): Promise<void> {
  const { store } = ctx;
  for (const stage of execution.stages.filter((s) => only(s.name))) {
    const logs: StageLogs = {};
    for (const action of stage.actions) {
      // The newest lines that fill the output and one byte more, so that a log longer than that is shown cut.
      logs[action.name] = await store.readLogTail(
        { executionId: execution.id, stage: stage.name, action: action.name, attempt: action.attempt },
        OUTPUT_LIMIT + 1,
      );
    }
    const url = detailsUrl(stage.name);
    const viewOf = (outputLimit: number) =>
      checkRunView(execution, stage.name, logs, url, { rollback: canRollBack(stage.name), outputLimit });
    const view = viewOf(OUTPUT_LIMIT);
    const sent = JSON.stringify(view);
    const key = `${execution.id}/${stage.name}`;
    // A view read before the one a check run last showed (another replica's, or one that waited) is old news.
    const passed = (ref: CheckRunRef | undefined) =>
      ref !== undefined && ((ref.version ?? -1) > execution.version || ref.sent === sent);
    if (passed(await store.getRef('check_run', key))) continue;
    const what = `check run "${view.name}" of ${execution.repo} execution #${execution.seq}`;
    // Every write is claimed first, so that two replicas reporting the same change write it once, and
    // one reporting an older state never writes it over a newer one (nor takes it for a stage that runs again).
    const claimed = await store.claimCreation(
      'check_run',
      key,
      { ...ctx.claim, now: ctx.clock() },
      (ref) => !passed(ref),
    );
    if (claimed.decision === 'claimed-elsewhere') {
      ctx.claimedElsewhere.push(what);
      continue;
    }
    if (claimed.decision === 'made') continue;
    const { token, value: known } = claimed;
    try {
      // Renewed while GitHub takes its time (rate limits waited out): the claim stands while this replica lives.
      await holdingCreation(store, { kind: 'check_run', key, token, ...ctx.claim, clock: ctx.clock }, () =>
        writeStage(ctx, execution, key, stage.name, viewOf, view, sent, known, token, url, what),
      );
    } catch (error) {
      await releaseClaim(ctx, { kind: 'check_run', key, token });
      throw error;
    }
  }
}

/**
 * Writes one stage's check run and records it, ending the claim `token`: a
 * new check run for the first view, and for a stage that runs again after
 * its check run completed (a newer view, as the claim made sure).
 */
async function writeStage(
  ctx: ReportContext,
  execution: ExecutionSummary,
  key: string,
  stage: string,
  viewOf: (outputLimit: number) => CheckRunView,
  view: CheckRunView,
  sent: string,
  known: CheckRunRef | undefined,
  token: string,
  url: string,
  what: string,
): Promise<void> {
  const { store } = ctx;
  const save = (ref: CheckRunRef) => store.finishCreation('check_run', key, token, ref, ctx.now);
  const { version } = execution;
  const fresh = known?.id === undefined || (known.completed && view.status !== 'completed');
  const written = await writeAdapting(
    ctx,
    execution,
    key,
    stage,
    viewOf,
    fresh ? undefined : known?.id,
    known?.level ?? 0,
    url,
    what,
  );
  if (written === undefined) {
    // Refused for good: remember what was refused, so the same is not sent again; keep the check run it had.
    await save({
      ...(known?.id !== undefined && { id: known.id }),
      sent,
      completed: known?.completed ?? false,
      version,
    });
    return;
  }
  const { id, level } = written;
  await save({ id, sent, completed: view.status === 'completed', version, ...(level > 0 && { level }) });
}

/**
 * Creates or updates the check run, smaller after each 422, anew after a 404; its id and size, or undefined when GitHub
 * took none.
 */
async function writeAdapting(
  ctx: ReportContext,
  execution: ExecutionSummary,
  key: string,
  stage: string,
  viewOf: (outputLimit: number) => CheckRunView,
  existing: number | undefined,
  from: number,
  url: string,
  what: string,
): Promise<{ id: number; level: number } | undefined> {
  let id = existing;
  let refused: GithubRefusal | undefined;
  for (let level = Math.min(from, OUTPUT_LIMITS.length - 1); level < OUTPUT_LIMITS.length; level++) {
    const view = viewOf(OUTPUT_LIMITS[level]!);
    // The last try is the state alone: no log text and no buttons, which GitHub may be refusing too.
    const bare = level === OUTPUT_LIMITS.length - 1;
    try {
      const written = await writeCheckRun(
        ctx,
        execution,
        key,
        stage,
        bare ? { ...view, output: { title: view.output.title, summary: view.output.summary }, actions: [] } : view,
        id,
        url,
      );
      if (refused)
        ctx.refusals.note(
          what,
          refused,
          refused.status === 404 ? 'Sluice created it anew' : 'Sluice sent it with less of the log',
        );
      return { id: written, level };
    } catch (error) {
      const refusal = refusalOf(error);
      if (!refusal) throw error;
      refused = refusal;
      if (refusal.status === 404 && id !== undefined) {
        // The check run is gone (or not this app's): create one in its place, at the same size.
        id = undefined;
        level--;
        continue;
      }
      if (refusal.status !== 422) break;
    }
  }
  ctx.refusals.note(what, refused!, 'Sluice left it as it was and goes on with the other reports');
  return undefined;
}

async function writeCheckRun(
  ctx: ReportContext,
  execution: ExecutionSummary,
  key: string,
  stage: string,
  view: CheckRunView,
  id: number | undefined,
  url: string,
): Promise<number> {
  const { owner, repo } = repoParams(execution.repo);
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
  if (id !== undefined) {
    await ctx.octokit.rest.checks.update({ ...body, check_run_id: id });
    return id;
  }
  const created = await ctx.octokit.rest.checks.create({ ...body, head_sha: execution.revision.sha });
  await ctx.store.putRef(
    'check_run_id',
    String(created.data.id),
    { executionId: execution.id, pipelineId: execution.pipelineId, stage } satisfies CheckRunOwner,
    ctx.now,
  );
  return created.data.id;
}
