/**
 * What the database-fault tests look at while Sluice runs as a process:
 * waiting for a condition with Sluice's own lines in the failure, the check
 * runs GitHub holds for a commit, and the course they share: a build held
 * at a gate while the fault strikes, then, once it is gone, a retry from
 * GitHub and a redelivered push that both deploy.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { GithubStandIn } from './github-stand-in.ts';
import { pushPayload, sendWebhook, sha } from './github-webhooks.ts';
import { buildOf, pipelineFixture } from './pipeline-fixture.ts';
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

/**
 * The build-to-dev fixture whose build marks `started`, then waits for
 * `gate` before it builds (with `more` commands before the copy of VERSION):
 * a test breaks something while the build runs, then opens the gate.
 */
export function gatedBuildToDev(started: string, gate: string, more: string[] = []): string {
  return pipelineFixture('build-to-dev', (pipeline) => {
    const build = buildOf(pipeline);
    build.run = [
      `touch ${started}`,
      `while [ ! -f ${gate} ]; do sleep 0.05; done`,
      'mkdir -p dist',
      ...more,
      'cp VERSION dist/',
    ];
  });
}

/**
 * A build on the `builder` hosts that says how many sleeps of its own kind
 * already run there (processes whose command line matches the `sleeping`
 * pattern), then sleeps for `sleep` seconds unless `gate` exists: what a
 * test leaves behind as an orphan when it kills Sluice mid-build.
 */
export function sleepingBuild(sleep: string, gate: string): string {
  const sleeping = `^sleep ${sleep.replace('.', '[.]')}$`;
  return pipelineFixture('one-build', (pipeline) => {
    const build = buildOf(pipeline);
    build.host = 'builder';
    build.run = [
      `echo "running before me: $(pgrep -fc '${sleeping}' || true)"\n`,
      `if [ ! -f ${gate} ]; then sleep ${sleep}; fi\n`,
    ];
  });
}

/** A server config that builds on this machine (`builder`) and deploys `dev` to `dir`/srv on it. */
export function builderDevConfig(dir: string): string {
  return `hosts:\n  builder: [local]\nlocal: { repos: ['*'] }\nenvironments:\n  dev:\n    hosts: [local]\n    path: ${join(dir, 'srv')}\n`;
}

export interface FaultBed {
  github: GithubStandIn;
  sluice: SluiceProcess;
  secret: string;
  repo: string;
}

/**
 * Commits v1 (sha(1), on main) and v2 (sha(2)) with `pipeline`, pushes v1 and waits until its build marks `started`.
 */
export async function pushGatedBuild(bed: FaultBed, pipeline: string, started: string): Promise<void> {
  const { github, sluice, secret, repo } = bed;
  github.addCommit(repo, sha(1), { '.github/sluice.yml': pipeline, VERSION: 'v1\n' });
  github.addCommit(repo, sha(2), { '.github/sluice.yml': pipeline, VERSION: 'v2\n' });
  github.setBranch(repo, 'main', sha(1));
  const push = await sendWebhook(sluice.url, secret, 'push', pushPayload({ repo, after: sha(1) }), {
    delivery: 'push-1',
  });
  assert.equal(push.status, 200);
  await waitForSluice(sluice, 'the build to start', () => existsSync(started));
}

/**
 * Once the fault is gone: the failed `build` check run, retried from GitHub,
 * builds and deploys to dev; GitHub's redelivery of the refused push of v2
 * (`push-2`) deploys too; and the process never crashed on the way.
 */
export async function assertCarriesOn(bed: FaultBed, build: HeldCheckRun): Promise<void> {
  const { github, sluice, secret, repo } = bed;
  const checkRuns = (name: string, commit: string) => heldCheckRuns(github, name, commit);
  const rerun = rerunPayload(github, build, repo, sha(1));
  assert.equal((await sendWebhook(sluice.url, secret, 'check_run', rerun)).status, 200);
  await waitForSluice(
    sluice,
    'the retried build and its deploy',
    () => checkRuns('Sluice: dev', sha(1)).at(-1)?.conclusion === 'success',
  );
  assert.equal(checkRuns('Sluice: build', sha(1)).at(-1)?.conclusion, 'success');

  const push = await sendWebhook(sluice.url, secret, 'push', pushPayload({ repo, after: sha(2) }), {
    delivery: 'push-2',
  });
  assert.equal(push.status, 200);
  await waitForSluice(
    sluice,
    'the redelivered push to deploy',
    () => checkRuns('Sluice: dev', sha(2)).at(-1)?.conclusion === 'success',
  );

  assert.equal(sluice.child.exitCode, null, 'the process is still running');
  assert.equal(sluice.child.signalCode, null);
  assert.doesNotMatch(sluice.output(), /unhandled|ERR_UNHANDLED_REJECTION|triggerUncaughtException/i);
}
