/**
 * What would change in an environment: the commits between what it runs
 * now and the commit about to go out, with GitHub's compare link (PRODUCT
 * K1). GitHub lists at most 250 commits of a compare; the total is exact.
 */
import { repoParams, type InstallationOctokit } from './github-api.ts';

export interface Changes {
  /** The commit the environment runs now. */
  base: string;
  compareUrl?: string;
  /** Oldest first. */
  commits: Array<{ sha: string; message: string; author?: string; people?: CommitPerson[] }>;
  /** Absent when the commits in between are not known. */
  total?: number;
}

/** An author or committer of a commit: the GitHub account it belongs to, and the e-mail the commit names. */
export interface CommitPerson {
  role: 'author' | 'committer';
  login?: string;
  email?: string;
}

export async function compareChanges(octokit: InstallationOctokit, repo: string, base: string, head: string): Promise<Changes> {
  const { data } = await octokit.rest.repos.compareCommitsWithBasehead({ ...repoParams(repo), basehead: `${base}...${head}` });
  return {
    base,
    compareUrl: data.html_url,
    commits: data.commits.map((c) => ({
      sha: c.sha,
      message: c.commit.message,
      ...((c.author?.login ?? c.commit.author?.name) && { author: c.author?.login ?? c.commit.author?.name }),
      people: [person('author', c.author?.login, c.commit.author?.email), person('committer', c.committer?.login, c.commit.committer?.email)],
    })),
    total: data.total_commits,
  };
}

function person(role: CommitPerson['role'], login: string | undefined, email: string | undefined): CommitPerson {
  return { role, ...(login && { login }), ...(email && { email }) };
}
