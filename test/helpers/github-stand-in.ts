/**
 * A local stand-in for GitHub's REST API, as a GitHub App sees it, under
 * `/api/v3` (the GitHub Enterprise Server layout, which Sluice reaches with
 * GHE_HOST/GHE_PROTOCOL): app JWT → installation token, repository
 * contents, tarballs (redirected to a codeload URL, as GitHub does), check
 * runs and Deployments. It checks what GitHub checks (JWT signature, token,
 * required fields, limits) with GitHub's status codes, and records every call.
 */
import { createVerify, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DeploymentsStandIn, type StoredDeployment } from './github-deployments.ts';
import { allows, checkRunProblem, invalidRequest, manifestPermissions, notAccessible, notFound, requiredPermission, type Permissions, type Refusal } from './github-rules.ts';

export type { StoredDeployment } from './github-deployments.ts';

export interface RecordedCall {
  method: string;
  /** Without `/api/v3`, e.g. `/repos/acme/shop/check-runs`. */
  path: string;
  query: Record<string, string>;
  body?: Record<string, unknown>;
  status: number;
  /** When it arrived (ms since the epoch). */
  at: number;
  /** What the stand-in answered (JSON answers only). */
  response?: Record<string, unknown>;
}

interface Commit {
  sha: string;
  files: Record<string, string>;
  tarball: Buffer;
  message: string;
  author: CommitAuthor;
  committer: CommitAuthor;
}

export interface CommitAuthor {
  name: string;
  email: string;
  /** The GitHub account, when the e-mail belongs to one. */
  login?: string;
}

const DEFAULT_AUTHOR: CommitAuthor = { name: 'Alice', email: 'alice@example.com', login: 'alice' };

export class GithubStandIn {
  readonly appId = 4242;
  readonly privateKey: string;
  readonly calls: RecordedCall[] = [];
  /** Every token it handed out, to search logs and records for. */
  readonly tokens: string[] = [];
  readonly #publicKey: KeyObject;
  readonly #commits = new Map<string, Commit>();
  readonly #tags = new Map<string, Commit>();
  /** Each repository's commits in the order they were added: a straight history, oldest first. */
  readonly #history = new Map<string, string[]>();
  readonly #checkRuns = new Map<number, Record<string, unknown>>();
  /** Which repository each check run belongs to (its body has no owner and name). */
  readonly #checkRunRepos = new Map<number, string>();
  readonly #deployments = new DeploymentsStandIn(
    () => this.#nextId++,
    (repo, ref) => {
      const sha = this.#resolve(repo, ref)?.sha ?? ref;
      return [...this.#checkRuns.values()]
        .filter((run) => this.#checkRunRepos.get(Number(run.id)) === repo && run.head_sha === sha)
        .map((run) => ({
          context: String(run.name),
          state: run.status !== 'completed' ? 'pending' : ['success', 'neutral', 'skipped'].includes(String(run.conclusion)) ? 'success' : 'failure',
        }));
    },
  );
  /** What an installation token may do: the manifest's permissions unless a test narrows them. */
  readonly permissions: Permissions;
  /** Repositories the app is installed on, and the installation's id. */
  readonly #installations = new Map<string, number>();
  #nextId = 1000;
  readonly #waiters: Array<{ match: (call: RecordedCall) => boolean; done: (call: RecordedCall) => void }> = [];
  readonly #failures: Array<{ path: RegExp; count: number; refusal: Refusal }> = [];
  #server: Server | undefined;
  #root = '';

  constructor(options: { permissions?: Permissions } = {}) {
    this.permissions = options.permissions ?? manifestPermissions();
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateKey = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    this.#publicKey = publicKey;
  }

  /** `host:port`, for GHE_HOST (with GHE_PROTOCOL=http). */
  get host(): string {
    return this.#root.replace(/^http:\/\//, '');
  }

  get apiUrl(): string {
    return `${this.#root}/api/v3`;
  }

  async start(): Promise<this> {
    this.#server = createServer((req, res) => {
      void this.#handle(req, res).catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ message: String(error) }));
      });
    });
    await new Promise<void>((done) => this.#server!.listen(0, '127.0.0.1', () => done()));
    this.#root = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((done) => (this.#server ? this.#server.close(() => done()) : done()));
  }

  /**
   * A commit of `repo` with these files; its tarball has them under
   * `<owner>-<repo>-<sha7>/`, as GitHub's does. Commits follow one another
   * in the order they are added (for compares); `main` points at the last.
   */
  addCommit(repo: string, sha: string, files: Record<string, string>, details: { message?: string; author?: CommitAuthor; committer?: CommitAuthor } = {}): void {
    const dir = mkdtempSync(join(tmpdir(), 'gh-tarball-'));
    try {
      const top = `${repo.replace('/', '-')}-${sha.slice(0, 7)}`;
      for (const [path, text] of Object.entries(files)) {
        const file = join(dir, top, path);
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, text, { mode: path.endsWith('.sh') ? 0o755 : 0o644 });
      }
      execFileSync('tar', ['-czf', join(dir, 'out.tar.gz'), '-C', dir, top]);
      const commit = { sha, files, tarball: readFileSync(join(dir, 'out.tar.gz')), message: details.message ?? `Commit ${sha.slice(0, 7)}`, author: details.author ?? DEFAULT_AUTHOR, committer: details.committer ?? details.author ?? DEFAULT_AUTHOR };
      this.#commits.set(`${repo}@${sha}`, commit);
      this.#commits.set(`${repo}@main`, commit);
      this.#history.set(repo, [...(this.#history.get(repo) ?? []), sha]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Installs the app on `repo` (GET /repos/{owner}/{repo}/installation finds it; otherwise 404, as on GitHub). */
  install(repo: string, installationId = 77): void {
    this.#installations.set(repo, installationId);
  }

  /** Points a branch name at a commit (for reads `?ref=<branch>` and `?ref=refs/heads/<branch>`). */
  setBranch(repo: string, branch: string, sha: string): void {
    const commit = this.#commits.get(`${repo}@${sha}`);
    if (!commit) throw new Error(`no commit ${sha} in ${repo}`);
    this.#commits.set(`${repo}@${branch}`, commit);
  }

  /**
   * Points a tag at a commit. As in git, a short name that is both a tag and
   * a branch means the tag: only `refs/heads/<name>` surely reads the branch.
   */
  setTag(repo: string, tag: string, sha: string): void {
    const commit = this.#commits.get(`${repo}@${sha}`);
    if (!commit) throw new Error(`no commit ${sha} in ${repo}`);
    this.#tags.set(`${repo}@${tag}`, commit);
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

  /** Calls other than token exchanges and reads, in order, as `METHOD path`. */
  writes(): RecordedCall[] {
    return this.calls.filter((c) => c.method !== 'GET' && !c.path.endsWith('/access_tokens'));
  }

  /** The next `count` calls whose path matches answer 502, as GitHub does when it is having a bad day. */
  failNext(path: RegExp, count: number): void {
    this.#failures.push({ path, count, refusal: { status: 502, body: { message: 'Server Error' } } });
  }

  /** GitHub is back: the failures and refusals still to come are dropped. */
  recover(): void {
    this.#failures.length = 0;
  }

  /** The next `count` writes whose path matches are refused so (e.g. a 422 GitHub gives that the stand-in would not). */
  refuseNext(path: RegExp, count: number, refusal: Refusal): void {
    this.#failures.push({ path, count, refusal });
  }

  checkRun(id: number): Record<string, unknown> | undefined {
    return this.#checkRuns.get(id);
  }

  /** Resolves with the first call, answered, that matches: one already received, or the next to come. */
  waitForCall(match: (call: RecordedCall) => boolean): Promise<RecordedCall> {
    const seen = this.calls.find((c) => c.status !== 0 && match(c));
    if (seen) return Promise.resolve(seen);
    return new Promise((done) => this.#waiters.push({ match, done }));
  }

  /** Every Deployment of `repo` (of every repository when omitted), oldest first. */
  deployments(repo?: string): StoredDeployment[] {
    return this.#deployments.list(repo);
  }

  /** A check run of the app made without Sluice (one from before its records, say); returns its id. */
  addCheckRun(fields: Record<string, unknown>): number {
    const id = this.#nextId++;
    this.#checkRuns.set(id, { id, ...fields });
    return id;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.#root);
    const raw = await readBody(req);
    const call: RecordedCall = { method: req.method ?? 'GET', path: url.pathname.replace(/^\/api\/v3/, ''), query: Object.fromEntries(url.searchParams), status: 0, at: Date.now() };
    if (raw.length > 0) call.body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
    this.calls.push(call);
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      call.status = status;
      res.once('finish', () => this.#notify(call));
      if (Buffer.isBuffer(body)) res.writeHead(status, headers).end(body);
      else {
        call.response = body as Record<string, unknown>;
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(body));
      }
    };
    const refuse = (refusal: Refusal) => reply(refusal.status, refusal.body);
    const failure = this.#failures.find((f) => f.count > 0 && f.path.test(call.path) && (f.refusal.status >= 500 || call.method !== 'GET'));
    if (failure) {
      failure.count--;
      return refuse(failure.refusal);
    }

    // codeload: the tarball itself, reached by the redirect below (no API auth, a token in the URL).
    const codeload = /^\/_codeload\/([^/]+\/[^/]+)\/legacy\.tar\.gz\/(.+)$/.exec(url.pathname);
    if (codeload && req.method === 'GET') {
      const commit = this.#commits.get(`${codeload[1]}@${decodeURIComponent(codeload[2] ?? '')}`);
      if (!commit || !url.searchParams.get('token')) return reply(404, { message: 'Not Found' });
      return reply(200, commit.tarball, { 'content-type': 'application/x-gzip' });
    }

    const conversion = /^\/app-manifests\/([^/]+)\/conversions$/.exec(call.path);
    if (conversion && req.method === 'POST') {
      return reply(201, {
        id: this.appId,
        slug: 'sluice',
        name: 'Sluice',
        html_url: `${this.#root}/apps/sluice`,
        pem: this.privateKey,
        webhook_secret: 'secret-from-the-manifest-flow',
        client_id: 'Iv1.standin',
        client_secret: 'client-secret',
      });
    }

    const tokenRequest = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(call.path);
    if (tokenRequest && req.method === 'POST') {
      const problem = this.#checkJwt(req.headers.authorization);
      if (problem) return reply(401, { message: problem });
      const token = `ghs_${randomBytes(18).toString('base64url')}`;
      this.tokens.push(token);
      return reply(201, {
        token,
        expires_at: new Date(Date.now() + 3600_000).toISOString(),
        permissions: this.permissions,
        repository_selection: 'all',
      });
    }

    // The app's installation on a repository: asked with the app's JWT, not an installation token.
    const repoInstallation = /^\/repos\/([^/]+\/[^/]+)\/installation$/.exec(call.path);
    if (repoInstallation && req.method === 'GET') {
      const problem = this.#checkJwt(req.headers.authorization);
      if (problem) return reply(401, { message: problem, documentation_url: 'https://docs.github.com/rest' });
      const repo = repoInstallation[1] ?? '';
      const id = this.#installations.get(repo);
      if (id === undefined) return reply(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/apps/apps#get-a-repository-installation-for-the-authenticated-app' });
      const owner = repo.split('/')[0] ?? '';
      return reply(200, {
        id,
        app_id: this.appId,
        app_slug: 'sluice',
        target_type: 'Organization',
        account: { login: owner, id: 1, type: 'Organization' },
        repository_selection: 'selected',
        access_tokens_url: `${this.apiUrl}/app/installations/${id}/access_tokens`,
        permissions: { checks: 'write', contents: 'read', deployments: 'write', metadata: 'read' },
        events: ['push', 'check_run', 'check_suite'],
      });
    }

    const repoCall = /^\/repos\/([^/]+\/[^/]+)(\/.*)?$/.exec(call.path);
    if (!repoCall) return reply(404, { message: 'Not Found' });
    const auth = req.headers.authorization ?? '';
    if (!this.tokens.some((t) => new RegExp(`^(token|bearer) ${t}$`, 'i').test(auth))) return reply(401, { message: 'Bad credentials' });
    const [, repo = '', rest = ''] = repoCall;
    const needed = requiredPermission(call.method, rest);
    if (needed && !allows(this.permissions, needed)) return refuse(notAccessible(needed.docs));

    const contents = /^\/contents\/(.+)$/.exec(rest);
    if (contents && req.method === 'GET') {
      const commit = this.#readRef(repo, url.searchParams.get('ref') ?? 'main');
      const path = decodeURIComponent(contents[1] ?? '');
      const text = commit?.files[path];
      if (text === undefined) return reply(404, { message: 'Not Found' });
      return reply(200, { type: 'file', encoding: 'base64', name: path.split('/').at(-1), path, size: Buffer.byteLength(text), sha: 'blob', content: Buffer.from(text).toString('base64') });
    }

    if (rest === '' && req.method === 'GET') {
      if (!this.#history.has(repo)) return reply(404, { message: 'Not Found' });
      const [owner = '', name = ''] = repo.split('/');
      return reply(200, { id: 1, name, full_name: repo, owner: { login: owner }, private: true, default_branch: 'main', html_url: `${this.webUrl}/${repo}` });
    }

    const commitRead = /^\/commits\/([^/]+)$/.exec(rest);
    if (commitRead && req.method === 'GET') {
      const commit = this.#resolve(repo, decodeURIComponent(commitRead[1] ?? ''));
      if (!commit) return reply(422, { message: `No commit found for SHA: ${decodeURIComponent(commitRead[1] ?? '')}`, documentation_url: 'https://docs.github.com/rest/commits/commits#get-a-commit' });
      return reply(200, this.#commitJson(repo, commit));
    }

    const compare = /^\/compare\/([^/.]+)\.\.\.([^/.]+)$/.exec(rest);
    if (compare && req.method === 'GET') {
      const history = this.#history.get(repo) ?? [];
      const [base, head] = [this.#resolve(repo, compare[1] ?? '')?.sha, this.#resolve(repo, compare[2] ?? '')?.sha];
      if (!base || !head) return reply(404, { message: 'Not Found' });
      const [from, to] = [history.indexOf(base), history.indexOf(head)];
      const ahead = to > from ? history.slice(from + 1, to + 1) : [];
      const behind = from > to ? from - to : 0;
      return reply(200, {
        url: `${this.apiUrl}/repos/${repo}/compare/${compare[1]}...${compare[2]}`,
        html_url: `${this.webUrl}/${repo}/compare/${compare[1]}...${compare[2]}`,
        status: ahead.length > 0 ? 'ahead' : behind > 0 ? 'behind' : 'identical',
        ahead_by: ahead.length,
        behind_by: behind,
        total_commits: ahead.length,
        // GitHub lists at most 250 commits, oldest first.
        commits: ahead.slice(0, 250).map((s) => this.#commitJson(repo, this.#commits.get(`${repo}@${s}`)!)),
        files: [],
      });
    }

    const tarball = /^\/tarball\/(.+)$/.exec(rest);
    if (tarball && req.method === 'GET') {
      if (!this.#commits.has(`${repo}@${decodeURIComponent(tarball[1] ?? '')}`)) return reply(404, { message: 'Not Found' });
      return reply(302, Buffer.alloc(0), { location: `${this.#root}/_codeload/${repo}/legacy.tar.gz/${tarball[1]}?token=${randomBytes(8).toString('hex')}` });
    }

    if (rest === '/check-runs' && req.method === 'POST') {
      const body = call.body ?? {};
      if (typeof body.name !== 'string') return refuse(invalidRequest('"name" wasn\'t supplied.', 'checks/runs#create-a-check-run'));
      if (typeof body.head_sha !== 'string') return refuse(invalidRequest('"head_sha" wasn\'t supplied.', 'checks/runs#create-a-check-run'));
      const problem = checkRunProblem(body);
      if (problem) return refuse(problem);
      const id = this.#nextId++;
      const run = { id, ...body, status: body.status ?? 'queued' };
      this.#checkRuns.set(id, run);
      this.#checkRunRepos.set(id, repo);
      return reply(201, run);
    }
    const checkUpdate = /^\/check-runs\/(\d+)$/.exec(rest);
    if (checkUpdate && req.method === 'PATCH') {
      const id = Number(checkUpdate[1]);
      const run = this.#checkRuns.get(id);
      if (!run) return refuse(notFound('checks/runs#update-a-check-run'));
      const problem = checkRunProblem(call.body ?? {});
      if (problem) return refuse(problem);
      Object.assign(run, call.body);
      return reply(200, run);
    }

    const deployments = this.#deployments.handle(req.method ?? 'GET', repo, rest, call.body ?? {}, `${this.apiUrl}/repos/${repo}`);
    if (deployments) return reply(deployments.status, deployments.body);
    return reply(404, { message: 'Not Found' });
  }

  #notify(call: RecordedCall): void {
    for (const waiter of [...this.#waiters]) {
      if (!waiter.match(call)) continue;
      this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
      waiter.done(call);
    }
  }

  /** The web address of the stand-in's "github.com", for html_url fields. */
  get webUrl(): string {
    return `${this.#root}/web`;
  }

  /** A branch, a full sha, or (as GitHub allows) a unique abbreviation of one. */
  #resolve(repo: string, ref: string): Commit | undefined {
    const exact = this.#readRef(repo, ref);
    if (exact || !/^[0-9a-f]{4,39}$/.test(ref)) return exact;
    const matches = (this.#history.get(repo) ?? []).filter((s) => s.startsWith(ref));
    return matches.length === 1 ? this.#commits.get(`${repo}@${matches[0]}`) : undefined;
  }

  /** A commit as the commits and compare endpoints return it. */
  #commitJson(repo: string, commit: Commit): Record<string, unknown> {
    const date = new Date().toISOString();
    return {
      sha: commit.sha,
      html_url: `${this.webUrl}/${repo}/commit/${commit.sha}`,
      commit: { message: commit.message, author: { name: commit.author.name, email: commit.author.email, date }, committer: { name: commit.committer.name, email: commit.committer.email, date } },
      author: commit.author.login ? { login: commit.author.login, id: 7, type: 'User' } : null,
      committer: commit.committer.login ? { login: commit.committer.login, id: 8, type: 'User' } : null,
      parents: [],
    };
  }

  /** GitHub's checks of an app JWT: RS256 by the app's key, `iss` the app id, at most 10 minutes long. */
  #checkJwt(header: string | undefined): string | undefined {
    const jwt = /^bearer (.+)$/i.exec(header ?? '')?.[1];
    if (!jwt) return 'A JSON web token could not be decoded';
    const [head = '', claims = '', signature = ''] = jwt.split('.');
    const verifier = createVerify('RSA-SHA256').update(`${head}.${claims}`);
    if (!verifier.verify(this.#publicKey, Buffer.from(signature, 'base64url'))) return 'A JSON web token could not be decoded';
    const payload = JSON.parse(Buffer.from(claims, 'base64url').toString()) as { iss?: unknown; iat?: number; exp?: number };
    const now = Math.floor(Date.now() / 1000);
    if (String(payload.iss) !== String(this.appId)) return "'Issuer' claim ('iss') must be an Integer";
    if (!payload.exp || !payload.iat || payload.exp < now || payload.exp - payload.iat > 600) return "'Expiration time' claim ('exp') is too far in the future";
    return undefined;
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
