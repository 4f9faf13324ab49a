/**
 * A file of a repository at a commit, through the contents API; undefined
 * when there is none. `ref` is a commit sha or a full ref name
 * (`refs/heads/main`): GitHub reads a short name that is also a tag's as
 * the tag, and anyone who can push can create a tag.
 */
import type { InstallationOctokit } from './github-api.ts';

export async function readRepoFile(
  octokit: InstallationOctokit,
  params: { owner: string; repo: string; path: string; ref: string },
): Promise<string | undefined> {
  try {
    const { data } = await octokit.rest.repos.getContent(params);
    if (Array.isArray(data) || data.type !== 'file') return undefined;
    if (!('content' in data)) return undefined;
    return Buffer.from(data.content, 'base64').toString('utf8');
  } catch (error) {
    if ((error as { status?: number }).status === 404) return undefined;
    throw error;
  }
}
