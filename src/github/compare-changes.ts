/**
 * What would change in an environment: the commits between what it runs
 * now and the commit about to go out, with GitHub's compare link (PRODUCT
 * K1). Unpaged, GitHub's compare lists the newest 250 commits and the
 * exact total; the older ones come only by pages (`page`, `per_page` ≤ 100,
 * oldest first), as its "Compare two commits" documents. Sluice asks for
 * them, up to a bound, so that their authors and committers are known to
 * the self-approval check (K2); past the bound the list stays short of the
 * total, and the approval card says that those could not be checked.
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

/** GitHub's most commits of an unpaged compare, and of one page. */
const UNPAGED = 250;
const PER_PAGE = 100;
/** Pages of older commits asked for at most: 2,000 more than the newest 250. */
export const MAX_OLDER_PAGES = 20;

type CompareCommit = Awaited<
  ReturnType<InstallationOctokit['rest']['repos']['compareCommitsWithBasehead']>
>['data']['commits'][number];

export async function compareChanges(
  octokit: InstallationOctokit,
  repo: string,
  base: string,
  head: string,
): Promise<Changes> {
  const basehead = `${base}...${head}`;
  const { data } = await octokit.rest.repos.compareCommitsWithBasehead({ ...repoParams(repo), basehead });
  let listed: CompareCommit[] = data.commits;
  if (data.total_commits > data.commits.length && data.commits.length >= UNPAGED) {
    const older: CompareCommit[] = [];
    const pages = Math.min(Math.ceil((data.total_commits - data.commits.length) / PER_PAGE), MAX_OLDER_PAGES);
    for (let page = 1; page <= pages; page++) {
      const { data: more } = await octokit.rest.repos.compareCommitsWithBasehead({
        ...repoParams(repo),
        basehead,
        per_page: PER_PAGE,
        page,
      });
      older.push(...more.commits);
      if (more.commits.length < PER_PAGE) break;
    }
    const newest = new Set(data.commits.map((c) => c.sha));
    listed = [...older.filter((c) => !newest.has(c.sha)), ...data.commits];
  }
  return {
    base,
    compareUrl: data.html_url,
    commits: listed.map((c) => ({
      sha: c.sha,
      message: c.commit.message,
      ...((c.author?.login ?? c.commit.author?.name) && { author: c.author?.login ?? c.commit.author?.name }),
      people: [
        person('author', c.author?.login, c.commit.author?.email),
        person('committer', c.committer?.login, c.commit.committer?.email),
      ],
    })),
    total: data.total_commits,
  };
}

function person(role: CommitPerson['role'], login: string | undefined, email: string | undefined): CommitPerson {
  return { role, ...(login && { login }), ...(email && { email }) };
}
