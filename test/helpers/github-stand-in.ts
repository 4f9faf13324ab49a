/**
 * A local stand-in for GitHub's REST API, as a GitHub App sees it, under
 * `/api/v3` (the GitHub Enterprise Server layout, which Sluice reaches with
 * GHE_HOST/GHE_PROTOCOL): app JWT → installation token, repository
 * contents, tarballs (redirected to a codeload URL, as GitHub does), check
 * runs and Deployments. Its routes are a table of GitHub's own operations
 * (`METHOD /template` from GitHub's OpenAPI description); every request is
 * matched against the description (404 when GitHub has no such route) and
 * checked against the operation's schema, then against what GitHub checks
 * beyond it (JWT signature, token, permissions, byte limits, a secondary
 * rate limit a test may set), with GitHub's status codes and messages. An
 * installation token reaches only its installation's repositories, for an
 * hour (./github-stand-in/github-installations.ts): a test installs the app
 * on the repositories it uses. It records every call.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DeploymentsStandIn, type StoredDeployment } from './github-deployments.ts';
import {
  allows,
  manifestPermissions,
  notAccessible,
  notFound,
  requiredPermission,
  type Answer,
  type Permissions,
  type Refusal,
} from './github-rules.ts';
import { checkJwt } from './github-stand-in/check-jwt.ts';
import { checkRequest, documentation, prepareChecks } from './github-stand-in/check-request.ts';
import { CheckRunsStandIn } from './github-stand-in/github-check-runs.ts';
import { InstallationsStandIn } from './github-stand-in/github-installations.ts';
import { RepositoriesStandIn, type CommitDetails, type StandInUrls } from './github-stand-in/github-repositories.ts';
import { WriteBudget, type WriteLimit } from './github-stand-in/limit-writes.ts';
import { describeRoute, loadRoutes, matchRoute } from './github-stand-in/match-route.ts';

export type { StoredDeployment } from './github-deployments.ts';
export type { CommitAuthor } from './github-stand-in/github-repositories.ts';
export type { WriteLimit } from './github-stand-in/limit-writes.ts';

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

/**
 * What a route is given: the repository (`owner/name`, when the path names one), the path's parameters, the query and
 * the JSON body.
 */
interface RouteRequest {
  repo: string;
  params: Record<string, string>;
  query: Record<string, string>;
  body: Record<string, unknown>;
}

interface Route {
  auth: 'jwt' | 'token' | 'none';
  handle: (request: RouteRequest) => Answer;
}

export class GithubStandIn {
  readonly appId = 4242;
  readonly privateKey: string;
  readonly calls: RecordedCall[] = [];
  /** Every token it handed out, to search logs and records for. */
  readonly tokens: string[] = [];
  readonly #publicKey: KeyObject;
  readonly #repositories = new RepositoriesStandIn();
  readonly #checkRuns = new CheckRunsStandIn(() => this.#nextId++);
  readonly #deployments = new DeploymentsStandIn(
    () => this.#nextId++,
    (repo, sha) => this.#checkRuns.contexts(repo, sha),
    (repo, ref) => this.#repositories.sha(repo, ref),
  );
  /** What an installation token may do: the manifest's permissions unless a test narrows them. */
  readonly permissions: Permissions;
  /** Installations, each with its repositories, and the tokens made for them. */
  readonly #installations = new InstallationsStandIn(
    (repo) => this.#repositories.id(repo),
    () => this.now(),
  );
  /** How far the stand-in's clock is ahead of the machine's (passTime). */
  #clockAhead = 0;
  #nextId = 1000;
  readonly #waiters: Array<{ match: (call: RecordedCall) => boolean; done: (call: RecordedCall) => void }> = [];
  readonly #failures: Array<{ path: RegExp; count: number; refusal: Refusal }> = [];
  #writeBudget: WriteBudget | undefined;
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
    // The description and the served routes' schemas, read and compiled before any test traffic.
    loadRoutes();
    for (const key of this.routes) {
      const route = describeRoute(key);
      if (!route) throw new Error(`the stand-in serves ${key}, which GitHub's description does not have`);
      prepareChecks(route);
    }
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
  addCommit(repo: string, sha: string, files: Record<string, string>, details: CommitDetails = {}): void {
    this.#repositories.addCommit(repo, sha, files, details);
  }

  /**
   * Installs the app on these repositories, in installation `installationId`
   * (77 unless a test needs two). Only an installation's repositories are
   * reached by its tokens; GET /repos/{owner}/{repo}/installation finds it
   * (for any other repository: 404, as on GitHub).
   */
  install(repos: string | string[], installationId = 77): void {
    for (const repo of [repos].flat()) this.#installations.install(repo, installationId);
  }

  /** A token of installation `installationId` that the stand-in accepts, as if made by a token exchange. */
  grantToken(token: string, installationId = 77): void {
    this.tokens.push(token);
    this.#installations.grant(installationId, token);
  }

  /** The stand-in's clock (ms since the epoch): the machine's, plus what passTime added. */
  now(): number {
    return Date.now() + this.#clockAhead;
  }

  /** Moves the stand-in's clock on, so that its tokens age (one expires an hour after it was made). */
  passTime(ms: number): void {
    this.#clockAhead += ms;
  }

  /** Points a branch name at a commit (for reads `?ref=<branch>` and `?ref=refs/heads/<branch>`). */
  setBranch(repo: string, branch: string, sha: string): void {
    this.#repositories.setBranch(repo, branch, sha);
  }

  /**
   * Points a tag at a commit. As in git, a short name that is both a tag and
   * a branch means the tag: only `refs/heads/<name>` surely reads the branch.
   */
  setTag(repo: string, tag: string, sha: string): void {
    this.#repositories.setTag(repo, tag, sha);
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

  /**
   * The next `count` writes whose path matches are refused so (e.g. a 422 GitHub gives that the stand-in would not).
   */
  refuseNext(path: RegExp, count: number, refusal: Refusal): void {
    this.#failures.push({ path, count, refusal });
  }

  /**
   * GitHub's secondary rate limit, small: above `writes` writes in `perMs`
   * a write is refused with `Retry-After`, and so is every write until then.
   */
  limitWrites(limit: WriteLimit): void {
    this.#writeBudget = new WriteBudget(limit);
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

  /**
   * Every check run Sluice created for `repo` (for every repository when omitted), as GitHub last took it, oldest
   * first.
   */
  checkRuns(repo?: string): Array<Record<string, unknown>> {
    return this.#checkRuns.list(repo);
  }

  /** Every Deployment of `repo` (of every repository when omitted), oldest first. */
  deployments(repo?: string): StoredDeployment[] {
    return this.#deployments.list(repo);
  }

  /** A check run of the app made without Sluice (one from before its records, say); returns its id. */
  addCheckRun(fields: Record<string, unknown>): number {
    return this.#checkRuns.add(fields);
  }

  /**
   * The routes the stand-in serves, one per `METHOD /template` of GitHub's
   * OpenAPI description, each with how it is authenticated: the app's JWT,
   * an installation token, or (the manifest flow's one-time code) nothing.
   */
  readonly #routes: Record<string, Route> = {
    'POST /app-manifests/{code}/conversions': { auth: 'none', handle: () => this.#convertManifest() },
    'POST /app/installations/{installation_id}/access_tokens': {
      auth: 'jwt',
      handle: (r) => this.#issueToken(Number(r.params.installation_id), r.body),
    },
    'GET /repos/{owner}/{repo}/installation': { auth: 'jwt', handle: (r) => this.#repoInstallation(r.repo) },
    'GET /repos/{owner}/{repo}': { auth: 'token', handle: (r) => this.#repositories.repository(r.repo, this.#urls()) },
    'GET /repos/{owner}/{repo}/contents/{path}': {
      auth: 'token',
      handle: (r) => this.#repositories.contents(r.repo, r.params.path ?? '', r.query.ref),
    },
    'GET /repos/{owner}/{repo}/commits/{ref}': {
      auth: 'token',
      handle: (r) => this.#repositories.commit(r.repo, r.params.ref ?? '', this.#urls()),
    },
    'GET /repos/{owner}/{repo}/compare/{basehead}': {
      auth: 'token',
      handle: (r) => this.#repositories.compare(r.repo, r.params.basehead ?? '', r.query, this.#urls()),
    },
    // The description keeps compare's older template too; it matches first, having more literal text.
    'GET /repos/{owner}/{repo}/compare/{base}...{head}': {
      auth: 'token',
      handle: (r) => this.#repositories.compare(r.repo, `${r.params.base}...${r.params.head}`, r.query, this.#urls()),
    },
    'GET /repos/{owner}/{repo}/tarball/{ref}': {
      auth: 'token',
      handle: (r) => this.#repositories.tarball(r.repo, r.params.ref ?? '', this.#urls()),
    },
    'POST /repos/{owner}/{repo}/check-runs': {
      auth: 'token',
      handle: (r) => this.#checkRuns.create(r.repo, r.body, (sha) => this.#repositories.sha(r.repo, sha) !== undefined),
    },
    'PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}': {
      auth: 'token',
      handle: (r) => this.#checkRuns.update(r.repo, Number(r.params.check_run_id), r.body),
    },
    'POST /repos/{owner}/{repo}/deployments': {
      auth: 'token',
      handle: (r) => this.#deployments.create(r.repo, r.body),
    },
    'POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses': {
      auth: 'token',
      handle: (r) =>
        this.#deployments.addStatus(r.repo, Number(r.params.deployment_id), r.body, `${this.apiUrl}/repos/${r.repo}`),
    },
  };

  /** The `METHOD /template` of every route the stand-in serves. */
  get routes(): string[] {
    return Object.keys(this.#routes);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.#root);
    const raw = await readBody(req);
    const call: RecordedCall = {
      method: req.method ?? 'GET',
      path: url.pathname.replace(/^\/api\/v3/, ''),
      query: Object.fromEntries(url.searchParams),
      status: 0,
      at: Date.now(),
    };
    const reply = ({ status, body, headers = {} }: Answer) => {
      call.status = status;
      res.once('finish', () => this.#notify(call));
      if (Buffer.isBuffer(body)) res.writeHead(status, headers).end(body);
      else {
        call.response = body as Record<string, unknown>;
        res
          .writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers })
          .end(JSON.stringify(body));
      }
    };
    let parsed: unknown;
    try {
      parsed = raw.length > 0 ? JSON.parse(raw.toString('utf8')) : undefined;
    } catch {
      this.calls.push(call);
      return reply({
        status: 400,
        body: { message: 'Problems parsing JSON', documentation_url: 'https://docs.github.com/rest', status: '400' },
      });
    }
    if (parsed !== undefined) call.body = parsed as Record<string, unknown>;
    this.calls.push(call);
    const failure = this.#failures.find(
      (f) => f.count > 0 && f.path.test(call.path) && (f.refusal.status >= 500 || call.method !== 'GET'),
    );
    if (failure) {
      failure.count--;
      return reply(failure.refusal);
    }

    // codeload: the tarball itself, on another host for GitHub, reached by the tarball's redirect (a token in the URL).
    const codeload = /^\/_codeload\/([^/]+\/[^/]+)\/legacy\.tar\.gz\/(.+)$/.exec(url.pathname);
    if (codeload && call.method === 'GET') {
      const tarball = this.#repositories.codeload(codeload[1] ?? '', decodeURIComponent(codeload[2] ?? ''));
      if (!tarball || !url.searchParams.get('token')) return reply(notFound(''));
      return reply({ status: 200, body: tarball, headers: { 'content-type': 'application/x-gzip' } });
    }

    const matched = url.pathname.startsWith('/api/v3/') ? matchRoute(call.method, call.path) : undefined;
    if (!matched) return reply(notFound(''));
    const route = this.#routes[matched.key];
    const repo =
      matched.params.owner !== undefined && matched.params.repo !== undefined
        ? `${matched.params.owner}/${matched.params.repo}`
        : '';
    const auth = route?.auth ?? 'token';
    if (auth === 'jwt') {
      const problem = checkJwt(req.headers.authorization, this.#publicKey, this.appId);
      if (problem)
        return reply({
          status: 401,
          body: { message: problem, documentation_url: 'https://docs.github.com/rest', status: '401' },
        });
    } else if (auth === 'token') {
      const refused = this.#installations.check(req.headers.authorization ?? '', repo);
      if (refused) return reply(refused);
      const needed = repo ? requiredPermission(call.method, call.path.slice(`/repos/${repo}`.length)) : undefined;
      if (needed && !allows(this.permissions, needed)) return reply(notAccessible(needed.docs));
    }
    const problem = checkRequest(matched, call.query, call.body);
    if (problem) return reply(problem);
    if (call.method !== 'GET' && auth === 'token') {
      const limited = this.#writeBudget?.take(Date.now());
      if (limited) return reply(limited);
    }
    // An operation GitHub has and the stand-in does not serve: GitHub's answer for what is not there.
    if (!route) return reply(notFound(documentation(matched.operation)));
    return reply(route.handle({ repo, params: matched.params, query: call.query, body: call.body ?? {} }));
  }

  #convertManifest(): Answer {
    return {
      status: 201,
      body: {
        id: this.appId,
        slug: 'sluice',
        name: 'Sluice',
        html_url: `${this.#root}/apps/sluice`,
        pem: this.privateKey,
        webhook_secret: 'secret-from-the-manifest-flow',
        client_id: 'Iv1.standin',
        client_secret: 'client-secret',
      },
    };
  }

  #issueToken(installation: number, body: Record<string, unknown>): Answer {
    const answer = this.#installations.issue(installation, body, this.permissions);
    const token = (answer.body as { token?: unknown }).token;
    if (typeof token === 'string') this.tokens.push(token);
    return answer;
  }

  /** The app's installation on a repository: asked with the app's JWT, not an installation token. */
  #repoInstallation(repo: string): Answer {
    const id = this.#installations.installationOf(repo);
    if (id === undefined) return notFound('apps/apps#get-a-repository-installation-for-the-authenticated-app');
    const owner = repo.split('/')[0] ?? '';
    return {
      status: 200,
      body: {
        id,
        app_id: this.appId,
        app_slug: 'sluice',
        target_type: 'Organization',
        account: { login: owner, id: 1, type: 'Organization' },
        repository_selection: 'selected',
        access_tokens_url: `${this.apiUrl}/app/installations/${id}/access_tokens`,
        permissions: { checks: 'write', contents: 'read', deployments: 'write', metadata: 'read' },
        events: ['push', 'check_run', 'check_suite'],
      },
    };
  }

  #urls(): StandInUrls {
    return { root: this.#root, api: this.apiUrl, web: this.webUrl };
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
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
