/**
 * The commits an approval would bring to an environment (PRODUCT K1): from
 * what the environment runs now (the pipeline's newest successful deploy
 * there) to the execution's commit, through GitHub's compare API.
 */
import { successfulDeploys } from '../runner/deploy-history.ts';
import type { ExecutionStore, RefStore, ExecutionSummary } from '../store/store.ts';
import { compareChanges, type Changes } from './compare-changes.ts';
import type { GithubApi } from './github-api.ts';

/**
 * Undefined on a first deploy; `total: 0` when the environment runs this commit already; no total when GitHub cannot be
 * asked.
 */
export async function changesSince(
  store: ExecutionStore & RefStore,
  api: GithubApi,
  execution: ExecutionSummary,
  environment: string,
): Promise<Changes | undefined> {
  const running = (await successfulDeploys(store, execution.pipelineId, environment)).find(
    (d) => d.execution.id !== execution.id,
  );
  if (!running) return undefined;
  const base = running.execution.revision.sha;
  if (base === execution.revision.sha) return { base, commits: [], total: 0 };
  const installation = await store.getRef('installation', execution.repo);
  if (!installation) return { base, commits: [] };
  return compareChanges(await api.installation(installation.id), execution.repo, base, execution.revision.sha);
}

/** github.com for api.github.com; `<protocol>://<host>` for a GitHub Enterprise Server's `/api/v3`. */
export function githubWebUrl(apiUrl: string): string {
  if (/^https:\/\/api\.github\.com\/?$/.test(apiUrl)) return 'https://github.com';
  return apiUrl.replace(/\/api\/v3\/?$/, '');
}
