/**
 * What the database-fault tests look at while Sluice runs as a process:
 * waiting for a condition with Sluice's own lines in the failure, and the
 * check runs GitHub holds for a commit.
 */
import type { GithubStandIn } from './github-stand-in.ts';
import type { SluiceProcess } from './sluice-process.ts';

export interface HeldCheckRun {
  id: number;
  conclusion?: string;
  details_url?: string;
  output?: { summary?: string; text?: string };
}

/** Polls `check` until it holds; on time-out the error quotes what Sluice said (without Probot's payload dumps). */
export async function waitForSluice(
  sluice: SluiceProcess | undefined,
  what: string,
  check: () => boolean | Promise<boolean>,
  ms = 60_000,
): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) {
      const said = (sluice?.output() ?? '').split('\n').filter((line) => /^(\w+ \(sluice\): |\(node)/.test(line));
      throw new Error(`timed out waiting for ${what}; Sluice said:\n${said.join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The check runs of one name on one commit, oldest first, as GitHub holds them now. */
export function heldCheckRuns(github: GithubStandIn, name: string, commit: string): Array<HeldCheckRun | undefined> {
  return github.calls
    .filter(
      (c) =>
        c.method === 'POST' && c.path.endsWith('/check-runs') && c.body?.name === name && c.body?.head_sha === commit,
    )
    .map((c) => github.checkRun(Number(c.response?.id)) as HeldCheckRun | undefined);
}

/** GitHub's `check_run.rerequested` for a failed build check run, with the fields GitHub always sends. */
export function rerunPayload(
  github: GithubStandIn,
  build: HeldCheckRun,
  repo: string,
  commit: string,
): Record<string, unknown> {
  return {
    action: 'rerequested',
    check_run: {
      id: build.id,
      name: 'Sluice: build',
      head_sha: commit,
      status: 'completed',
      conclusion: 'failure',
      output: { title: 'Build', summary: String(build.output?.summary ?? ''), text: null, annotations_count: 0 },
      app: { id: github.appId, slug: 'sluice' },
    },
    requested_action: null,
    repository: { full_name: repo, default_branch: 'main' },
    installation: { id: 77 },
    sender: { login: 'bob' },
  };
}
