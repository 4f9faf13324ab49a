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
  /**
   * The app's installation on `owner/name`, asked as the app itself (its
   * JWT): undefined when the app is not installed there (GitHub's 404).
   */
  repoInstallation(fullName: string): Promise<number | undefined>;
}

export function probotApi(probot: Probot, appId: number): GithubApi {
  return {
    appId,
    installation: (id) => probot.auth(id),
    async repoInstallation(fullName) {
      const app = await probot.auth();
      try {
        return (await app.rest.apps.getRepoInstallation(repoParams(fullName))).data.id;
      } catch (error) {
        if ((error as { status?: unknown }).status === 404) return undefined;
        throw error;
      }
    },
  };
}

/** `owner/name` as the two path parameters of the REST API. */
export function repoParams(fullName: string): { owner: string; repo: string } {
  const [owner = '', repo = ''] = fullName.split('/');
  return { owner, repo };
}
