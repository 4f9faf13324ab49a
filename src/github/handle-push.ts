/**
 * A push → an execution of the pushed commit (PRODUCT P1), in the steps a
 * reader checks one by one:
 *  1. skip what is not a branch head, and pushes older than one already seen;
 *  2. read `.github/sluice.yml` at the commit; an invalid file fails a check
 *     run with annotations at its lines (G3);
 *  3. the pipeline that runs is the default branch's (G6): a push to another
 *     branch cannot change how anything deploys, only its own file is checked;
 *  4. the branch must be one the pipeline names, and 5. the source tarball
 *     comes through the API (S1), then the execution starts (startCommit).
 * Returns a sentence for the inbox's record of the delivery.
 */
import { parsePipelineConfig } from '../config/load-pipeline-config.ts';
import type { ExecutionStore, RefStore } from '../store/store.ts';
import { OUTPUT_LIMIT } from './check-run-view.ts';
import { toAnnotations } from './config-annotations.ts';
import { keepHead } from './cut-to-bytes.ts';
import { repoParams, type GithubApi, type InstallationOctokit } from './github-api.ts';
import { refusalOf } from './github-refusal.ts';
import { readRepoFile } from './read-repo-file.ts';
import { PIPELINE_FILE, startCommit, type StartDeps } from './start-commit.ts';
import type { PushPayload } from './webhook-payloads.ts';
import { SluiceError } from '../sluice-error.ts';

export { PIPELINE_FILE } from './start-commit.ts';

export interface PushDeps extends StartDeps {
  store: ExecutionStore & RefStore;
  api: GithubApi;
  clock: () => number;
}

export interface BranchHead {
  /** The delivery that recorded it: processing that delivery again goes on. */
  delivery: string;
  sha: string;
  before: string;
  pushedAt: number;
  /** Recorded as the head's own commit pushed again: it starts nothing, however often it is delivered. */
  again?: true;
}

declare module '../store/ref-store.ts' {
  interface RefKinds {
    branch_head: BranchHead;
  }
}

export async function handlePush(deps: PushDeps, deliveryId: string, payload: PushPayload): Promise<string> {
  const { store } = deps;
  const repoName = payload.repository.full_name;
  if (!payload.ref.startsWith('refs/heads/')) return `not a branch: ${payload.ref}`;
  if (payload.deleted || /^0+$/.test(payload.after)) return `branch ${payload.ref} deleted`;
  if (!payload.installation) return 'no installation in the payload';
  const branch = payload.ref.slice('refs/heads/'.length);
  const origin = `github:${deliveryId}`;
  const existing = await store.findExecutionByOrigin(origin);
  if (existing) return `execution #${existing.seq} already started`;

  const octokit = await deps.api.installation(payload.installation.id);
  const order = await checkOrder(deps, octokit, repoName, branch, deliveryId, payload);
  if (order.skip) return order.skip;
  if (order.supersededBy !== undefined) {
    // An old push delivered again (under a delivery Sluice never saw): its commit keeps what it showed.
    const pipelineId = await store.ensurePipeline(repoName, PIPELINE_FILE);
    const ran = (await store.listExecutions({ pipelineId, limit: RECENT_EXECUTIONS })).find(
      (e) => e.revision.sha === payload.after && e.revision.ref === branch,
    );
    if (ran) return `older than the head of ${branch}; ${payload.after.slice(0, 7)} already has execution #${ran.seq}`;
  }
  const headKey = branchKey(repoName, branch);
  const { owner, repo } = repoParams(repoName);
  const sha = payload.after;
  const defaultBranch = payload.repository.default_branch;

  const own = await readRepoFile(octokit, { owner, repo, path: PIPELINE_FILE, ref: sha });
  if (own !== undefined) {
    const parsed = parsePipelineConfig(own, { file: PIPELINE_FILE, server: deps.server, repo: repoName });
    if (!parsed.ok) {
      const refused = await failPipelineCheck(octokit, owner, repo, sha, parsed.problems);
      return `invalid ${PIPELINE_FILE}: ${parsed.problems.length} problem(s)${refused ? `; ${refused}` : ''}`;
    }
  }
  if (branch === defaultBranch && own === undefined) return `no ${PIPELINE_FILE}`;
  const head = payload.head_commit;
  const author = head?.author?.username ?? head?.author?.name;
  const committer = head?.committer?.username ?? head?.committer?.name;
  const pusher = {
    ...(payload.sender?.login && { login: payload.sender.login }),
    ...(payload.pusher?.email && { email: payload.pusher.email }),
  };
  const started = await startCommit(deps, octokit, {
    repo: repoName,
    defaultBranch,
    revision: {
      sha,
      ref: branch,
      ...(head?.message !== undefined && { message: head.message }),
      ...(author !== undefined && { author }),
      ...(head?.author?.username && { authorLogin: head.author.username }),
      ...(head?.author?.email && { authorEmail: head.author.email }),
      ...(committer !== undefined && { committer }),
      ...(head?.committer?.username && { committerLogin: head.committer.username }),
      ...(head?.committer?.email && { committerEmail: head.committer.email }),
      ...((pusher.login || pusher.email) && { pusher }),
    },
    pushed: true,
    // On the default branch, the file just read is the one that runs.
    ...(branch === defaultBranch && { pipelineText: own }),
    trigger: `push by ${payload.pusher?.name ?? payload.sender?.login ?? 'someone'}`,
    origin,
    actor: `github:${payload.sender?.login ?? 'unknown'}`,
    // An older push is shown superseded at once; a newer one still is, if a later push of its branch
    // was taken while it was being started (P11: the newest commit of a branch is the one that goes out).
    ...(order.supersededBy !== undefined
      ? { supersededBy: order.supersededBy }
      : {
          supersededIf: async (refs: RefStore) =>
            newerThan(await refs.getRef('branch_head', headKey), deliveryId, payload.after, branch),
        }),
  });
  if (!started.ok) return started.reason;
  const { execution } = started;
  if (execution.status === 'superseded') return `execution #${execution.seq} ${execution.reason}`;
  return `started execution #${execution.seq}`;
}

/**
 * GitHub may deliver pushes out of order, and a replica may handle one it
 * had to put off after later ones (PRODUCT P11). Of the pushes of a branch,
 * the newest taken is kept as its head; a push is newer than it when GitHub
 * recorded it later (`pushed_at`), and within one second when it moved the
 * branch on from it (`before`), or its commit descends from the head's (as
 * GitHub compares them); otherwise it is older. A newer push becomes the
 * head (decided under a claim, so two replicas take one head at a time); an
 * older one is started superseded, saying by what (unless its commit ran
 * already); the head's own commit pushed again is skipped (pushed later, as
 * a force-push back to it, it is recorded as the head all the same).
 */
async function checkOrder(
  deps: PushDeps,
  octokit: InstallationOctokit,
  repo: string,
  branch: string,
  deliveryId: string,
  payload: PushPayload,
): Promise<{ skip?: string; supersededBy?: string }> {
  const { store } = deps;
  const key = branchKey(repo, branch);
  const pushedAt = toSeconds(payload.repository.pushed_at) ?? Math.floor(deps.clock() / 1000);
  const mine: BranchHead = { delivery: deliveryId, sha: payload.after, before: payload.before, pushedAt };
  for (let tries = 0; tries < HEAD_TRIES; tries++) {
    const seen = await store.getRef('branch_head', key);
    if (seen?.delivery === deliveryId) return seen.again ? { skip: pushedAgain(payload.after, branch) } : {};
    // The head's commit pushed again: nothing new to run, but a later push of it (a force-push back to it,
    // delivered before the push it undid) is recorded, so the push it undid is older than the head.
    const again = seen?.sha === payload.after;
    if (seen) {
      if (again && mine.pushedAt <= seen.pushedAt) {
        return { skip: `older than ${seen.sha.slice(0, 7)}, already seen on ${branch}` };
      }
      if (!again && !(await isNewer(octokit, repo, mine, seen))) return { supersededBy: supersededBy(seen, branch) };
    }
    const same = (ref: BranchHead | undefined) => ref?.delivery === seen?.delivery;
    const claim = { owner: `push:${deliveryId}`, now: deps.clock(), leaseMs: HEAD_LEASE_MS };
    const claimed = await store.claimCreation('branch_head', key, claim, same);
    if (claimed.decision === 'create') {
      const head = again ? { ...mine, again } : mine;
      // A claim held past its lease may have let a newer push be taken: then this one is decided again.
      if (await store.finishCreation('branch_head', key, claimed.token, head, deps.clock(), { ifHeld: true })) {
        return again ? { skip: pushedAgain(payload.after, branch) } : {};
      }
      continue;
    }
    // Another push of the branch was taken meanwhile (or is being): decide again against it.
    await new Promise((resolve) => setTimeout(resolve, HEAD_PAUSE_MS));
  }
  throw new SluiceError(
    'PUSH_NOT_RECORDED',
    `could not record push ${payload.after.slice(0, 7)} as the head of ${repo} ${branch}: other pushes of the branch kept being taken; the delivery is tried again`,
  );
}

/** How far back an older push's commit is looked for among its pipeline's executions. */
const RECENT_EXECUTIONS = 50;

/** Pushes of one branch taken at once, at most, before a push gives up for now (its delivery is tried again). */
const HEAD_TRIES = 50;
const HEAD_PAUSE_MS = 20;
/** A push's claim on its branch's head: taking it is two queries, so one held this long is its dead holder's. */
const HEAD_LEASE_MS = 10_000;

function branchKey(repo: string, branch: string): string {
  return `${repo}:${branch}`;
}

function pushedAgain(sha: string, branch: string): string {
  return `${sha.slice(0, 7)} pushed to ${branch} again; it is the head already`;
}

function supersededBy(head: BranchHead, branch: string): string {
  return `superseded by ${head.sha.slice(0, 7)}, pushed to ${branch} after this commit`;
}

/**
 * Why an execution of the push `deliveryId` of `sha` should not run, when the branch's head is now another (newer) push
 * of another commit.
 */
function newerThan(head: BranchHead | undefined, deliveryId: string, sha: string, branch: string): string | undefined {
  if (head === undefined || head.delivery === deliveryId || head.sha === sha) return undefined;
  return supersededBy(head, branch);
}

/** Whether `push` came after `head` on their branch. */
async function isNewer(
  octokit: InstallationOctokit,
  repo: string,
  push: BranchHead,
  head: BranchHead,
): Promise<boolean> {
  if (push.pushedAt !== head.pushedAt) return push.pushedAt > head.pushedAt;
  if (push.before === head.sha) return true;
  if (head.before === push.sha) return false;
  try {
    const { data } = await octokit.rest.repos.compareCommitsWithBasehead({
      ...repoParams(repo),
      basehead: `${head.sha}...${push.sha}`,
      per_page: 1,
    });
    if (data.status === 'ahead') return true;
    if (data.status === 'behind' || data.status === 'identical') return false;
  } catch (error) {
    // A commit GitHub no longer has (a force-push dropped it) cannot be compared: the push counts as newer.
    if (refusalOf(error)?.status !== 404) throw error;
  }
  // Diverged (a force-push) within one second: the one handled later wins, as before.
  return true;
}

function toSeconds(value: number | string | null): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
  }
  return undefined;
}

/** A failed check run with the problems as annotations, 50 per request (G3); says what GitHub refused, if it did. */
async function failPipelineCheck(
  octokit: InstallationOctokit,
  owner: string,
  repo: string,
  sha: string,
  problems: Parameters<typeof toAnnotations>[0],
): Promise<string | undefined> {
  const batches = toAnnotations(problems, PIPELINE_FILE);
  const list = problems
    .slice(0, 100)
    .map((p) => `- line ${p.line}, column ${p.col}: ${p.message}`)
    .join('\n');
  const output = (annotations: ReturnType<typeof toAnnotations>[number] | undefined) => ({
    title: `${PIPELINE_FILE} is invalid`,
    summary: keepHead(
      `Sluice did not start a pipeline for this commit: ${PIPELINE_FILE} has ${problems.length} problem${problems.length === 1 ? '' : 's'}.\n\n${list}`,
      OUTPUT_LIMIT,
    ),
    ...(annotations && { annotations }),
  });
  const create = (annotations: ReturnType<typeof toAnnotations>[number] | undefined) =>
    octokit.rest.checks.create({
      owner,
      repo,
      head_sha: sha,
      name: 'Sluice: pipeline',
      status: 'completed',
      conclusion: 'failure',
      completed_at: new Date().toISOString(),
      output: output(annotations),
    });
  let id: number;
  try {
    id = (await create(batches[0])).data.id;
  } catch (error) {
    const refusal = refusalOf(error);
    if (!refusal || refusal.status !== 422 || !batches[0]) throw error;
    // The problems are in the summary as well: a check run without annotations still says what to fix.
    await create(undefined);
    return `GitHub refused the annotations (${refusal.status} ${refusal.message}), so the check run lists the problems without them`;
  }
  for (const batch of batches.slice(1)) {
    try {
      await octokit.rest.checks.update({ owner, repo, check_run_id: id, output: output(batch) });
    } catch (error) {
      const refusal = refusalOf(error);
      if (!refusal) throw error;
      return `GitHub refused more annotations (${refusal.status} ${refusal.message}); the summary lists the problems`;
    }
  }
  return undefined;
}
