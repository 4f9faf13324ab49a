/**
 * The GitHub stand-in's Deployments: each kept with its statuses, as GitHub
 * keeps them, so a test can read what GitHub would show. A ref the
 * repository does not have is 422 "No ref found for"; a status of an
 * unknown Deployment is 404; a success marks earlier ones inactive as
 * GitHub's `auto_inactive` does; a Deployment created without
 * `required_contexts` while a check of its commit has not succeeded is 409.
 * Environment names are compared as GitHub compares them, ignoring case
 * ("Environment names are not case sensitive", GitHub's docs on managing
 * environments): `Dev` and `dev` are one environment.
 */
import { deploymentStatusProblem, invalidRequest, notFound, type Refusal } from './github-rules.ts';

/** A Deployment as the stand-in keeps it: its fields and every status it was given, oldest first. */
export interface StoredDeployment {
  id: number;
  repo: string;
  /** The commit it deploys. */
  sha: string;
  environment: string;
  production: boolean;
  transient: boolean;
  statuses: Array<{ state: string; description: string; by: 'app' | 'auto_inactive' }>;
}

/** A check of a commit as a deployment context: `success`, or what keeps it from being one. */
export interface CommitContext {
  context: string;
  state: 'success' | 'failure' | 'pending';
}

export class DeploymentsStandIn {
  readonly #deployments = new Map<number, StoredDeployment>();
  readonly #nextId: () => number;
  readonly #contexts: (repo: string, sha: string) => CommitContext[];
  readonly #resolve: (repo: string, ref: string) => string | undefined;

  /**
   * `contexts`: the checks of a commit in a repository, for GitHub's check
   * of `required_contexts`; `resolve`: the commit a ref names, if any.
   */
  constructor(
    nextId: () => number,
    contexts: (repo: string, sha: string) => CommitContext[],
    resolve: (repo: string, ref: string) => string | undefined,
  ) {
    this.#nextId = nextId;
    this.#contexts = contexts;
    this.#resolve = resolve;
  }

  /** Every Deployment of `repo` (of every repository when omitted), oldest first. */
  list(repo?: string): StoredDeployment[] {
    return [...this.#deployments.values()].filter((d) => repo === undefined || d.repo === repo);
  }

  /** `POST /repos/{owner}/{repo}/deployments` */
  create(repo: string, body: Record<string, unknown>): Refusal {
    if (typeof body.ref !== 'string')
      return invalidRequest('"ref" wasn\'t supplied.', 'deployments/deployments#create-a-deployment');
    // A ref the repository does not have is refused before anything else is looked at.
    const sha = this.#resolve(repo, body.ref);
    if (sha === undefined)
      return {
        status: 422,
        body: {
          message: `No ref found for: ${body.ref}`,
          documentation_url: 'https://docs.github.com/rest/deployments/deployments#create-a-deployment',
          status: '422',
        },
      };
    // Without required_contexts GitHub requires every check of the commit to have succeeded.
    const contexts = body.required_contexts === undefined ? this.#contexts(repo, sha) : [];
    if (contexts.some((c) => c.state !== 'success')) {
      return {
        status: 409,
        body: {
          message: `Conflict: Commit status checks failed for ${body.ref}.`,
          errors: [{ contexts, resource: 'Deployment', field: 'required_contexts', code: 'invalid' }],
          documentation_url: 'https://docs.github.com/rest/deployments/deployments#create-a-deployment',
          status: '409',
        },
      };
    }
    const id = this.#nextId();
    const environment = typeof body.environment === 'string' ? body.environment : 'production';
    // GitHub's default: production_environment is true only for an environment named "production".
    const production =
      typeof body.production_environment === 'boolean'
        ? body.production_environment
        : sameEnvironment(environment, 'production');
    this.#deployments.set(id, {
      id,
      repo,
      sha,
      environment,
      production,
      transient: body.transient_environment === true,
      statuses: [],
    });
    return {
      status: 201,
      body: {
        id,
        sha,
        ref: body.ref,
        environment,
        payload: body.payload ?? {},
        description: body.description ?? null,
        production_environment: production,
      },
    };
  }

  /** `POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses` */
  addStatus(repo: string, id: number, body: Record<string, unknown>, repoUrl: string): Refusal {
    const deployment = this.#deployments.get(id);
    if (!deployment || deployment.repo !== repo) return notFound('deployments/statuses#create-a-deployment-status');
    const problem = deploymentStatusProblem(body);
    if (problem) return problem;
    const state = String(body.state);
    deployment.statuses.push({
      state,
      description: typeof body.description === 'string' ? body.description : '',
      by: 'app',
    });
    if (state === 'success' && body.auto_inactive !== false) this.#retireEarlier(deployment);
    return {
      status: 201,
      body: {
        id: this.#nextId(),
        state,
        description: body.description ?? '',
        deployment_url: `${repoUrl}/deployments/${deployment.id}`,
      },
    };
  }

  /**
   * `auto_inactive` (GitHub's default): a new success marks inactive every
   * earlier non-transient, non-production Deployment of the same repository
   * and environment whose latest status is success.
   */
  #retireEarlier(current: StoredDeployment): void {
    for (const earlier of this.#deployments.values()) {
      if (
        earlier.id >= current.id ||
        earlier.repo !== current.repo ||
        !sameEnvironment(earlier.environment, current.environment)
      )
        continue;
      if (earlier.transient || earlier.production || earlier.statuses.at(-1)?.state !== 'success') continue;
      earlier.statuses.push({ state: 'inactive', description: '', by: 'auto_inactive' });
    }
  }
}

/** Whether two environment names name one environment on GitHub: case does not count. */
export function sameEnvironment(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
