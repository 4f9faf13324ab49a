/**
 * The GitHub stand-in's check runs: each kept as GitHub last took it, with
 * its repository, and read back as a commit's contexts for the Deployments'
 * `required_contexts` check. A check run for a commit the repository does
 * not have is 422, and one of another repository is not found from this
 * one's path, as on GitHub.
 */
import { checkRunProblem, noCommit, notFound, type Answer } from '../github-rules.ts';
import type { CommitContext } from '../github-deployments.ts';

export class CheckRunsStandIn {
  readonly #runs = new Map<number, Record<string, unknown>>();
  /** Which repository each check run belongs to (its body has no owner and name). */
  readonly #repos = new Map<number, string>();
  readonly #nextId: () => number;

  constructor(nextId: () => number) {
    this.#nextId = nextId;
  }

  get(id: number): Record<string, unknown> | undefined {
    return this.#runs.get(id);
  }

  /** Every check run made through the API, of `repo` (of every repository when omitted), oldest first. */
  list(repo?: string): Array<Record<string, unknown>> {
    return [...this.#runs.values()].filter((run) => {
      const owner = this.#repos.get(Number(run.id));
      return owner !== undefined && (repo === undefined || owner === repo);
    });
  }

  /** A check run made without the API (one from before Sluice's records, say); returns its id. */
  add(fields: Record<string, unknown>): number {
    const id = this.#nextId();
    this.#runs.set(id, { id, ...fields });
    return id;
  }

  /**
   * `POST /repos/{owner}/{repo}/check-runs`; `hasCommit`: whether the repository has the commit `head_sha` names
   * (GitHub's 422 otherwise).
   */
  create(repo: string, body: Record<string, unknown>, hasCommit: (sha: string) => boolean): Answer {
    const problem = checkRunProblem(body);
    if (problem) return problem;
    if (!hasCommit(String(body.head_sha))) return noCommit(String(body.head_sha), 'checks/runs#create-a-check-run');
    const id = this.#nextId();
    // As GitHub's docs say, providing a conclusion sets the status to completed.
    const run = { id, ...body, status: body.conclusion !== undefined ? 'completed' : (body.status ?? 'queued') };
    this.#runs.set(id, run);
    this.#repos.set(id, repo);
    return { status: 201, body: run };
  }

  /** `PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}` */
  update(repo: string, id: number, body: Record<string, unknown>): Answer {
    const run = this.#runs.get(id);
    // A check run of another repository is not there, seen from this one's path.
    const owner = this.#repos.get(id);
    if (!run || (owner !== undefined && owner !== repo)) return notFound('checks/runs#update-a-check-run');
    const problem = checkRunProblem(body);
    if (problem) return problem;
    Object.assign(run, body, body.conclusion !== undefined && { status: 'completed' });
    return { status: 200, body: run };
  }

  /** The check runs of a commit as deployment contexts: success, or what keeps them from it. */
  contexts(repo: string, sha: string): CommitContext[] {
    return [...this.#runs.values()]
      .filter((run) => this.#repos.get(Number(run.id)) === repo && run.head_sha === sha)
      .map((run) => ({
        context: String(run.name),
        state:
          run.status !== 'completed'
            ? 'pending'
            : ['success', 'neutral', 'skipped'].includes(String(run.conclusion))
              ? 'success'
              : 'failure',
      }));
  }
}
