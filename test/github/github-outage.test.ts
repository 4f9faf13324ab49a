/**
 * GitHub down while an execution ends: its last check-run and Deployment
 * writes fail with 502, and nothing about the execution changes after. Once
 * GitHub answers again, the reports arrive all the same — the build and dev
 * check runs complete and the dev Deployment ends — and the log says that
 * Sluice is trying again; after a restart in the outage too.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { githubSluicePerTest } from '../helpers/github-sluice.ts';
import type { GithubStandIn, RecordedCall } from '../helpers/github-stand-in.ts';
import { appFiles, pipelineFile, REPO } from '../helpers/shop.ts';
import { sha } from '../helpers/github-webhooks.ts';

const startApp = githubSluicePerTest();

/** Waits until GitHub took the dev Deployment's success and the dev check run's; the Deployment status it took. */
async function devReported(github: GithubStandIn): Promise<RecordedCall> {
  const deployEnded = await github.waitForCall(
    (c) => /\/deployments\/\d+\/statuses$/.test(c.path) && c.status < 300 && c.body?.state === 'success',
  );
  await github.waitForCall(
    (c) =>
      c.path.includes('/check-runs') &&
      c.status < 300 &&
      c.body?.name === 'Sluice: dev' &&
      c.body?.conclusion === 'success',
  );
  return deployEnded;
}

test('reports GitHub could not take while it was down arrive once it is back, though the execution ended meanwhile', async () => {
  const started = await startApp({ start: { githubRetryMs: 50 } });
  const { github, sluice } = started;
  // Down for every check-run and Deployment write from the start, until recover().
  github.failNext(/\/(check-runs|deployments)/, Number.MAX_SAFE_INTEGER);
  github.addCommit(REPO, sha(1), appFiles('v1', pipelineFile(['mkdir -p dist', 'cp VERSION dist/VERSION'])));
  const reply = await started.sendPush({ after: sha(1) });
  assert.equal(reply.status, 200, reply.text);
  await sluice.idle();
  const [execution] = await sluice.store.listExecutions({ limit: 1 });
  assert.equal(execution?.status, 'succeeded', 'the execution ended while GitHub was down');
  assert.deepEqual(github.deployments(REPO), [], 'GitHub took nothing yet');
  assert.ok(
    started.logs.some((l) => /^Sluice could not update GitHub: .*\(Sluice tries again in \d+ms\)$/.test(l)),
    started.logs.join('\n'),
  );

  github.recover();
  const deployEnded = await devReported(github);
  assert.equal(deployEnded.body?.state, 'success');
  await sluice.idle();
  const latest = github.deployments(REPO).map((d) => `${d.environment}: ${d.statuses.at(-1)?.state}`);
  assert.deepEqual(latest, ['dev: success']);
  const checks = github.calls
    .filter((c) => c.path.includes('/check-runs') && c.status < 300 && c.body?.status === 'completed')
    .map((c) => `${String(c.body?.name)}: ${String(c.body?.conclusion)}`);
  assert.deepEqual([...new Set(checks)].sort(), ['Sluice: build: success', 'Sluice: dev: success']);
});

test('a restart while GitHub is down does not lose the reports: the next start sends them once GitHub is back', async () => {
  const started = await startApp({ start: { githubRetryMs: 60_000 } });
  const { github } = started;
  github.failNext(/\/(check-runs|deployments)/, Number.MAX_SAFE_INTEGER);
  github.addCommit(REPO, sha(2), appFiles('v1', pipelineFile(['mkdir -p dist', 'cp VERSION dist/VERSION'])));
  const reply = await started.sendPush({ after: sha(2) });
  assert.equal(reply.status, 200, reply.text);
  await started.sluice.idle();
  assert.equal((await started.sluice.store.listExecutions({ limit: 1 }))[0]?.status, 'succeeded');
  await started.sluice.close();
  assert.deepEqual(github.deployments(REPO), [], 'GitHub took nothing before the restart');

  github.recover();
  const again = await started.restart();
  try {
    await devReported(github);
    await again.idle();
    assert.deepEqual(
      github.deployments(REPO).map((d) => `${d.environment}: ${d.statuses.at(-1)?.state}`),
      ['dev: success'],
    );
  } finally {
    await again.close();
  }
});
