/**
 * A run started by hand for a branch, tag or commit of a repository
 * (PRODUCT P1, K5 `/sluice run`): the ref is resolved through the API to a
 * commit, and that commit starts like a push would, minus the branch filter.
 * The installation is the one the repository's webhooks named, or, for a
 * repository that has sent none yet, the one GitHub names when the app asks.
 */
import type { GithubApi } from './github-api.ts';
import { repoParams } from './github-api.ts';
import type { ExecutionStore, RefStore } from '../store/store.ts';
import { startCommit, type StartDeps, type StartResult } from './start-commit.ts';

export async function startFromRef(
  deps: StartDeps & { api: GithubApi; store: ExecutionStore & RefStore },
  input: { repo: string; ref?: string; by: string; trigger: string },
): Promise<StartResult> {
  const installation = await findInstallation(deps, input.repo);
  if (installation === undefined)
    return {
      ok: false,
      reason: `the GitHub App is not installed on ${input.repo}: install it there from the app's page on GitHub (Install App), then run again`,
    };
  const octokit = await deps.api.installation(installation);
  const params = repoParams(input.repo);
  const { data: repository } = await octokit.rest.repos.get(params);
  const ref = input.ref ?? repository.default_branch;
  let commit;
  try {
    // The default branch by its full name: a tag called `main` is not it.
    commit = (
      await octokit.rest.repos.getCommit({ ...params, ref: input.ref ?? `refs/heads/${repository.default_branch}` })
    ).data;
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status === 404 || status === 422)
      return { ok: false, reason: `${input.repo} has no branch, tag or commit "${ref}"` };
    throw error;
  }
  // A ref that is the commit itself (full or short sha) names no branch.
  const isSha = /^[0-9a-f]{7,40}$/i.test(ref) && commit.sha.startsWith(ref.toLowerCase());
  const author = commit.author?.login ?? commit.commit.author?.name;
  return startCommit(deps, octokit, {
    repo: input.repo,
    defaultBranch: repository.default_branch,
    revision: {
      sha: commit.sha,
      ...(!isSha && { ref }),
      message: commit.commit.message,
      ...(author && { author }),
      ...(commit.author?.login && { authorLogin: commit.author.login }),
      ...(commit.commit.author?.email && { authorEmail: commit.commit.author.email }),
      ...(commit.committer?.login && { committerLogin: commit.committer.login }),
      ...(commit.commit.committer?.email && { committerEmail: commit.commit.committer.email }),
    },
    trigger: input.trigger,
    actor: input.by,
  });
}

/**
 * The installation last seen on the repository's webhooks, else GitHub's answer to the app (kept, as a webhook's would
 * be).
 */
async function findInstallation(
  deps: StartDeps & { api: GithubApi; store: ExecutionStore & RefStore },
  repo: string,
): Promise<number | undefined> {
  const known = await deps.store.getRef('installation', repo);
  if (known) return known.id;
  const found = await deps.api.repoInstallation(repo);
  if (found !== undefined) await deps.store.putRef('installation', repo, { id: found }, Date.now());
  return found;
}
