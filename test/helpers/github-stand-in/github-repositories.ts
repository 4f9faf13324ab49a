/**
 * The GitHub stand-in's repositories: commits with their files and
 * tarballs, branches and tags, and the read endpoints that serve them
 * (repository, contents, commit, compare, tarball), answering as GitHub
 * does. Compare lists at most the newest 250 commits unless paged, as
 * GitHub's "Compare two commits" documents.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { noCommit, notFound, type Answer } from '../github-rules.ts';

export interface CommitAuthor {
  name: string;
  email: string;
  /** The GitHub account, when the e-mail belongs to one. */
  login?: string;
}

/** What a test may say of a commit it adds, besides its files; `tarball: false` gives it an empty tarball. */
export interface CommitDetails {
  message?: string;
  author?: CommitAuthor;
  committer?: CommitAuthor;
  tarball?: boolean;
}

interface Commit {
  sha: string;
  files: Record<string, string>;
  tarball: Buffer;
  message: string;
  author: CommitAuthor;
  committer: CommitAuthor;
}

/** Where the stand-in answers: its root, its API and its "github.com". */
export interface StandInUrls {
  root: string;
  api: string;
  web: string;
}

/** GitHub's most commits of an unpaged compare; a page holds at most 100. */
export const COMPARE_LIMIT = 250;

const DEFAULT_AUTHOR: CommitAuthor = { name: 'Alice', email: 'alice@example.com', login: 'alice' };

export class RepositoriesStandIn {
  readonly #commits = new Map<string, Commit>();
  readonly #tags = new Map<string, Commit>();
  /** Each repository's commits in the order they were added: a straight history, oldest first. */
  readonly #history = new Map<string, string[]>();
  /** Each repository's id, in the order they were first named (GitHub's ids differ by repository). */
  readonly #ids = new Map<string, number>();

  /** The repository's id, as `GET /repos/{owner}/{repo}` gives it and `repository_ids` names it. */
  id(repo: string): number {
    if (!this.#ids.has(repo)) this.#ids.set(repo, 1000 + this.#ids.size + 1);
    return this.#ids.get(repo)!;
  }

  /** See GithubStandIn.addCommit. */
  addCommit(repo: string, sha: string, files: Record<string, string>, details: CommitDetails = {}): void {
    const commit = {
      sha,
      files,
      tarball: details.tarball === false ? Buffer.alloc(0) : packTarball(repo, sha, files),
      message: details.message ?? `Commit ${sha.slice(0, 7)}`,
      author: details.author ?? DEFAULT_AUTHOR,
      committer: details.committer ?? details.author ?? DEFAULT_AUTHOR,
    };
    this.#commits.set(`${repo}@${sha}`, commit);
    this.#commits.set(`${repo}@main`, commit);
    this.#history.set(repo, [...(this.#history.get(repo) ?? []), sha]);
  }

  setBranch(repo: string, branch: string, sha: string): void {
    this.#commits.set(`${repo}@${branch}`, this.#exact(repo, sha));
  }

  setTag(repo: string, tag: string, sha: string): void {
    this.#tags.set(`${repo}@${tag}`, this.#exact(repo, sha));
  }

  /** `GET /repos/{owner}/{repo}` */
  repository(repo: string, urls: StandInUrls): Answer {
    if (!this.#history.has(repo)) return notFound('repos/repos#get-a-repository');
    const [owner = '', name = ''] = repo.split('/');
    return {
      status: 200,
      body: {
        id: this.id(repo),
        name,
        full_name: repo,
        owner: { login: owner },
        private: true,
        default_branch: 'main',
        html_url: `${urls.web}/${repo}`,
      },
    };
  }

  /** `GET /repos/{owner}/{repo}/contents/{path}` */
  contents(repo: string, path: string, ref: string | undefined): Answer {
    const text = this.#readRef(repo, ref ?? 'main')?.files[path];
    if (text === undefined) return notFound('repos/contents#get-repository-content');
    return {
      status: 200,
      body: {
        type: 'file',
        encoding: 'base64',
        name: path.split('/').at(-1),
        path,
        size: Buffer.byteLength(text),
        sha: 'blob',
        content: Buffer.from(text).toString('base64'),
      },
    };
  }

  /** `GET /repos/{owner}/{repo}/commits/{ref}` */
  commit(repo: string, ref: string, urls: StandInUrls): Answer {
    const commit = this.#resolve(repo, ref);
    if (!commit) return noCommit(ref, 'commits/commits#get-a-commit');
    return { status: 200, body: commitJson(repo, commit, urls) };
  }

  /**
   * `GET /repos/{owner}/{repo}/compare/{basehead}`: unpaged, the newest 250
   * commits, oldest first; with `page` or `per_page` (at most 100), that
   * page of all of them in order, and a Link header to the next and last.
   */
  compare(repo: string, basehead: string, query: Record<string, string>, urls: StandInUrls): Answer {
    const [baseRef = '', headRef = ''] = basehead.split('...');
    const history = this.#history.get(repo) ?? [];
    const [base, head] = [this.#resolve(repo, baseRef)?.sha, this.#resolve(repo, headRef)?.sha];
    if (!base || !head) return notFound('commits/commits#compare-two-commits');
    const [from, to] = [history.indexOf(base), history.indexOf(head)];
    const ahead = to > from ? history.slice(from + 1, to + 1) : [];
    const behind = from > to ? from - to : 0;
    const paged = query.page !== undefined || query.per_page !== undefined;
    const perPage = Math.min(Math.max(Number(query.per_page ?? 30), 1), 100);
    const page = Math.max(Number(query.page ?? 1), 1);
    const listed = paged ? ahead.slice((page - 1) * perPage, page * perPage) : ahead.slice(-COMPARE_LIMIT);
    const url = `${urls.api}/repos/${repo}/compare/${basehead}`;
    const headers: Record<string, string> = {};
    const last = Math.max(Math.ceil(ahead.length / perPage), 1);
    if (paged && page < last)
      headers.link = `<${url}?per_page=${perPage}&page=${page + 1}>; rel="next", <${url}?per_page=${perPage}&page=${last}>; rel="last"`;
    const body = {
      url,
      html_url: `${urls.web}/${repo}/compare/${basehead}`,
      status: ahead.length > 0 ? 'ahead' : behind > 0 ? 'behind' : 'identical',
      ahead_by: ahead.length,
      behind_by: behind,
      total_commits: ahead.length,
      commits: listed.map((s) => commitJson(repo, this.#commits.get(`${repo}@${s}`)!, urls)),
      files: [],
    };
    return { status: 200, body, headers };
  }

  /** `GET /repos/{owner}/{repo}/tarball/{ref}`: a redirect to codeload, as GitHub answers. */
  tarball(repo: string, ref: string, urls: StandInUrls): Answer {
    if (!this.#commits.has(`${repo}@${ref}`)) return notFound('repos/contents#download-a-repository-archive-tar');
    return {
      status: 302,
      body: Buffer.alloc(0),
      headers: {
        location: `${urls.root}/_codeload/${repo}/legacy.tar.gz/${encodeURIComponent(ref)}?token=${randomBytes(8).toString('hex')}`,
      },
    };
  }

  /** The tarball codeload serves, or undefined. */
  codeload(repo: string, ref: string): Buffer | undefined {
    return this.#commits.get(`${repo}@${ref}`)?.tarball;
  }

  /** The commit `ref` names, for the checks of a Deployment's ref. */
  sha(repo: string, ref: string): string | undefined {
    return this.#resolve(repo, ref)?.sha;
  }

  #exact(repo: string, sha: string): Commit {
    const commit = this.#commits.get(`${repo}@${sha}`);
    if (!commit) throw new Error(`no commit ${sha} in ${repo}`);
    return commit;
  }

  /** A `ref` query parameter as GitHub reads it: a sha, a full ref name, or a short name (tags first). */
  #readRef(repo: string, ref: string): Commit | undefined {
    if (ref.startsWith('refs/tags/')) return this.#tags.get(`${repo}@${ref.slice('refs/tags/'.length)}`);
    if (ref.startsWith('refs/heads/')) {
      const branch = ref.slice('refs/heads/'.length);
      return /^[0-9a-f]{40}$/.test(branch) ? undefined : this.#commits.get(`${repo}@${branch}`);
    }
    return this.#tags.get(`${repo}@${ref}`) ?? this.#commits.get(`${repo}@${ref}`);
  }

  /** A branch, a full sha, or (as GitHub allows) a unique abbreviation of one. */
  #resolve(repo: string, ref: string): Commit | undefined {
    const exact = this.#readRef(repo, ref);
    if (exact || !/^[0-9a-f]{4,39}$/.test(ref)) return exact;
    const matches = (this.#history.get(repo) ?? []).filter((s) => s.startsWith(ref));
    return matches.length === 1 ? this.#commits.get(`${repo}@${matches[0]}`) : undefined;
  }
}

/** A tarball with the files under `<owner>-<repo>-<sha7>/`, as GitHub's has them. */
function packTarball(repo: string, sha: string, files: Record<string, string>): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'gh-tarball-'));
  try {
    const top = `${repo.replace('/', '-')}-${sha.slice(0, 7)}`;
    for (const [path, text] of Object.entries(files)) {
      const file = join(dir, top, path);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, text, { mode: path.endsWith('.sh') ? 0o755 : 0o644 });
    }
    execFileSync('tar', ['-czf', join(dir, 'out.tar.gz'), '-C', dir, top]);
    return readFileSync(join(dir, 'out.tar.gz'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A commit as the commits and compare endpoints return it. */
function commitJson(repo: string, commit: Commit, urls: StandInUrls): Record<string, unknown> {
  const date = new Date().toISOString();
  return {
    sha: commit.sha,
    html_url: `${urls.web}/${repo}/commit/${commit.sha}`,
    commit: {
      message: commit.message,
      author: { name: commit.author.name, email: commit.author.email, date },
      committer: { name: commit.committer.name, email: commit.committer.email, date },
    },
    author: commit.author.login ? { login: commit.author.login, id: 7, type: 'User' } : null,
    committer: commit.committer.login ? { login: commit.committer.login, id: 8, type: 'User' } : null,
    parents: [],
  };
}
