/**
 * How Sluice reaches GitHub's API: as the app (a JWT) or as one of its
 * installations. Probot's Octokit caches installation tokens and asks for a
 * new one before the old expires, so an execution longer than the token's
 * hour keeps working (PRODUCT G5); tokens never leave this process.
 */
import type { Probot } from 'probot';

export type InstallationOctokit = Awaited<ReturnType<Probot['auth']>>;

export interface GithubApi {
  appId: number;
  installation(id: number): Promise<InstallationOctokit>;
}

export function probotApi(probot: Probot, appId: number): GithubApi {
  return { appId, installation: (id) => probot.auth(id) };
}

/** `owner/name` as the two path parameters of the REST API. */
export function repoParams(fullName: string): { owner: string; repo: string } {
  const [owner = '', repo = ''] = fullName.split('/');
  return { owner, repo };
}
