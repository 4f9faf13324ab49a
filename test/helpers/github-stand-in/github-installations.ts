/**
 * The GitHub stand-in's installations and their tokens, scoped as GitHub
 * scopes them: an installation reaches the repositories it was installed
 * on; a token made by `POST /app/installations/{id}/access_tokens` reaches
 * those (or the few `repositories`/`repository_ids` name, never more) for
 * an hour. A repository outside a token's reach is GitHub's 404 "Not
 * Found" (GitHub does not say that it exists); an unknown or expired token
 * is 401 "Bad credentials".
 */
import { randomBytes } from 'node:crypto';
import { notFound, type Answer, type Permissions, type Refusal } from '../github-rules.ts';

/** An installation token's life, as GitHub's docs give it: one hour. */
export const TOKEN_LIFETIME_MS = 3600_000;

interface Grant {
  installation: number;
  /** The repositories `repositories`/`repository_ids` narrowed it to; otherwise the installation's, as they are now. */
  repos?: ReadonlySet<string>;
  expiresAt: number;
}

const BAD_CREDENTIALS: Refusal = {
  status: 401,
  body: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' },
};

export class InstallationsStandIn {
  /** Each installation's repositories (`owner/name`), by installation id. */
  readonly #installations = new Map<number, Set<string>>();
  readonly #grants = new Map<string, Grant>();
  readonly #ids: (repo: string) => number;
  readonly #now: () => number;

  /** `ids`: a repository's id (for `repository_ids`); `now`: the stand-in's clock. */
  constructor(ids: (repo: string) => number, now: () => number) {
    this.#ids = ids;
    this.#now = now;
  }

  install(repo: string, installation: number): void {
    for (const repos of this.#installations.values()) repos.delete(repo);
    this.#installations.set(installation, (this.#installations.get(installation) ?? new Set()).add(repo));
  }

  /** The installation `repo` is in, if any. */
  installationOf(repo: string): number | undefined {
    for (const [id, repos] of this.#installations) if (repos.has(repo)) return id;
    return undefined;
  }

  /** `POST /app/installations/{installation_id}/access_tokens` (asked with the app's JWT). */
  issue(installation: number, body: Record<string, unknown>, permissions: Permissions): Answer {
    const installed = this.#installations.get(installation);
    if (!installed) return notFound('apps/apps#create-an-installation-access-token-for-an-app');
    const names = Array.isArray(body.repositories) ? body.repositories.map(String) : undefined;
    const ids = Array.isArray(body.repository_ids) ? body.repository_ids.map(Number) : undefined;
    let repos: Set<string> | undefined;
    if (names || ids) {
      repos = new Set(
        [...installed].filter((repo) => names?.includes(repo.split('/')[1] ?? '') || ids?.includes(this.#ids(repo))),
      );
      if (repos.size < (names?.length ?? 0) + (ids?.length ?? 0))
        return {
          status: 422,
          body: {
            message:
              'There is at least one repository that does not exist or is not accessible to the parent installation.',
            documentation_url: 'https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app',
            status: '422',
          },
        };
    }
    const token = `ghs_${randomBytes(18).toString('base64url')}`;
    const expiresAt = this.#now() + TOKEN_LIFETIME_MS;
    this.#grants.set(token, { installation, ...(repos && { repos }), expiresAt });
    return {
      status: 201,
      body: {
        token,
        expires_at: new Date(expiresAt).toISOString(),
        permissions,
        repository_selection: 'selected',
        ...(repos && {
          repositories: [...repos].map((repo) => ({ id: this.#ids(repo), full_name: repo, name: repo.split('/')[1] })),
        }),
      },
    };
  }

  /**
   * Whether `authorization` (`token <t>` or `Bearer <t>`) may reach `repo`
   * (empty: a route of no repository): undefined when it may, else GitHub's
   * refusal.
   */
  check(authorization: string, repo: string): Refusal | undefined {
    const token = /^(?:token|bearer) (\S+)$/i.exec(authorization)?.[1] ?? '';
    const grant = this.#grants.get(token);
    if (!grant || grant.expiresAt <= this.#now()) return BAD_CREDENTIALS;
    const reach = grant.repos ?? this.#installations.get(grant.installation);
    if (repo && !reach?.has(repo)) return notFound('');
    return undefined;
  }

  /** A token of `installation`, made without a request (a test's reader of what Sluice wrote). */
  grant(installation: number, token: string): void {
    this.#grants.set(token, { installation, expiresAt: this.#now() + TOKEN_LIFETIME_MS });
  }
}
