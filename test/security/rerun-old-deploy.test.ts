/**
 * GitHub keeps *Re-run* on every old check run. A re-run of a production
 * deploy obeys the operator: refused once a newer release runs there (push
 * or roll back instead), refused for a GitHub user the operator did not let
 * retry, and never let through on its old approval — it asks again. Each
 * refusal completes the check run saying why, and nothing deploys.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkRunPayload } from '../helpers/github-webhooks.ts';
import { type FixturePipeline, pipelineFixture } from '../helpers/pipeline-fixture.ts';
import { approvalInItsOwnStage, productionVersion, REPO } from '../helpers/shop.ts';
import { serverConfig, sha, type SlackSluice, slackSluicePerTest } from '../helpers/slack-sluice.ts';
import { ANN, CAROL, CHANNEL } from '../helpers/slack-workspace.ts';
import { findActionSummary, findStageSummary } from '../../src/store/store.ts';

const startApp = slackSluicePerTest();

const withPeople = (dir: string) =>
  serverConfig(dir).replace('slack:\n', `slack:\n  people:\n    carol-gh: ${CAROL}\n    ann-gh: ${ANN}\n`);

/** Production's health check fails until `fixed` exists; dev's passes. */
function healthyInProductionOnce(pipeline: FixturePipeline, fixed: string): void {
  pipeline.app!.health!.command = `test -f started && { pwd | grep -q srv-dev || test -f ${fixed}; }`;
}

function productionRunId(started: SlackSluice, commit: string): number {
  const created = started.github.calls.find(
    (c) =>
      c.method === 'POST' && c.body?.name === 'Sluice: production' && c.body.head_sha === commit && c.status === 201,
  );
  return Number(created?.response?.id);
}

let deliveries = 0;
/** *Re-run* on the production check run of `commit`, pressed by `login`; the inbox's note of it. */
async function rerun(started: SlackSluice, commit: string, login: string): Promise<string> {
  const delivery = `rerun-${++deliveries}`;
  const id = productionRunId(started, commit);
  const payload = checkRunPayload({
    action: 'rerequested',
    id,
    appId: started.github.appId,
    name: 'Sluice: production',
    headSha: commit,
    repo: REPO,
    conclusion: String(started.github.checkRun(id)?.conclusion ?? 'failure'),
    output: { title: 'production', summary: 'Failed' },
    sender: login,
  });

  assert.equal((await started.send('check_run', payload, { delivery })).status, 200);
  await started.sluice.idle();
  return (await started.sluice.store.getDelivery(delivery))?.note ?? '';
}

const summaryOf = (started: SlackSluice, commit: string) =>
  String(
    (started.github.checkRun(productionRunId(started, commit))?.output as { summary?: string } | undefined)?.summary,
  );

test('a re-run of an old production deploy is refused once a newer release runs there, on the check run and for Re-run all checks', async () => {
  const started = await startApp({ serverConfig: withPeople });
  await started.push(1, 'v1');
  await started.click(started.card(), 'reject', ANN);
  await started.push(2, 'v2');
  await started.click(started.card(), 'approve', ANN);
  assert.equal(productionVersion(started), 'v2');
  const cards = started.slack.cards(CHANNEL).length;

  const why = '#1 is no longer the current release of production (production runs #2 now); push or roll back instead';
  assert.equal(await rerun(started, sha(1), 'carol-gh'), `not retried: ${why} (said so on GitHub)`);
  assert.match(
    summaryOf(started, sha(1)),
    new RegExp(`^\\*\\*Not re-run:\\*\\* not retried: ${why.replace(/[()#]/g, '\\$&')}`),
  );

  const suite = {
    action: 'rerequested',
    check_suite: {
      id: 5150,
      head_branch: 'main',
      head_sha: sha(1),
      status: 'queued',
      conclusion: null,
      before: sha(0),
      after: sha(1),
      app: { id: started.github.appId, slug: 'sluice' },
    },
    repository: { full_name: REPO, default_branch: 'main' },
    installation: { id: 77 },
    sender: { login: 'carol-gh' },
  };
  assert.equal((await started.send('check_suite', suite, { delivery: 'suite' })).status, 200);
  await started.sluice.idle();
  assert.match(
    (await started.sluice.store.getDelivery('suite'))?.note ?? '',
    /stage production of execution #1 is not re-run: #1 is no longer the current release of production/,
  );

  assert.equal((await started.gate(1))?.status, 'failed', 'the old approval stays decided');
  assert.equal(started.slack.cards(CHANNEL).length, cards, 'no approval was asked');
  assert.equal(productionVersion(started), 'v2');
});

test('a GitHub user the operator did not let retry cannot re-run a production deploy; one it did gets a fresh approval', async () => {
  const started = await startApp({ serverConfig: withPeople });
  await started.push(1, 'v1');
  await started.click(started.card(), 'reject', ANN);
  const cards = started.slack.cards(CHANNEL).length;

  const rule =
    'the server config lets the logins of github.retry do it, and the Slack users of slack.commands.retry whose login slack.people maps';
  assert.equal(
    await rerun(started, sha(1), 'mallory-gh'),
    `not retried: GitHub user @mallory-gh may not re-run a deploy to production: ${rule} (said so on GitHub)`,
  );
  assert.equal(
    await rerun(started, sha(1), 'ann-gh'),
    `not retried: GitHub user @ann-gh may not re-run a deploy to production: ${rule} (@ann-gh is Slack user ${ANN}, whom slack.commands.retry does not list) (said so on GitHub)`,
  );
  assert.equal((await started.gate(1))?.status, 'failed');
  assert.equal(started.slack.cards(CHANNEL).length, cards);

  assert.equal(await rerun(started, sha(1), 'carol-gh'), 'retried stage production');
  assert.deepEqual([(await started.gate(1))?.status, (await started.gate(1))?.attempt], ['awaiting_approval', 2]);
  await started.click(started.card(), 'approve', ANN);
  assert.equal(productionVersion(started), 'v1');
});

test('a production deploy that failed after its approval asks again on re-run instead of reusing the old approval', async () => {
  const started = await startApp({ serverConfig: withPeople });
  const fixed = join(started.dir, 'fixed');
  const pipeline = pipelineFixture('shop-to-production', (file) => healthyInProductionOnce(file, fixed));
  await started.push(1, 'v1', { pipeline });
  await started.click(started.card(), 'approve', ANN);
  const execution = await started.sluice.store.getExecution(1);
  assert.equal((execution && findStageSummary(execution, 'production'))?.status, 'failed');
  writeFileSync(fixed, '');

  assert.equal(await rerun(started, sha(1), 'carol-gh'), 'retried stage production');
  assert.deepEqual(
    [(await started.gate(1))?.status, (await started.gate(1))?.attempt],
    ['awaiting_approval', 2],
    'the approval asks again',
  );
  const deploy = async () => {
    const execution = await started.sluice.store.getExecution(1);
    return execution && findActionSummary(execution, 'production', 'prod-deploy');
  };
  assert.deepEqual(
    [(await deploy())?.status, (await deploy())?.attempt],
    ['pending', 2],
    'nothing deploys on the old approval',
  );
  await started.click(started.card(), 'approve', ANN);
  assert.deepEqual([(await deploy())?.status, (await deploy())?.attempt], ['succeeded', 2]);
  assert.equal(productionVersion(started), 'v1');
});

test('a re-run of a deploy whose approval is in an earlier stage is refused, as that approval cannot ask again', async () => {
  const started = await startApp({ serverConfig: withPeople });
  const fixed = join(started.dir, 'fixed');
  const pipeline = pipelineFixture('shop-to-production', (file) => {
    approvalInItsOwnStage(file, 'approval');
    healthyInProductionOnce(file, fixed);
  });
  await started.push(1, 'v1', { pipeline });
  await started.click(started.card(), 'approve', ANN);
  const deploy = async () => {
    const execution = await started.sluice.store.getExecution(1);
    return (execution && findStageSummary(execution, 'production'))?.actions[0];
  };
  assert.deepEqual([(await deploy())?.status, (await deploy())?.attempt], ['failed', 1]);
  writeFileSync(fixed, '');

  assert.equal(
    await rerun(started, sha(1), 'carol-gh'),
    'not retried: Stage "production" of execution #1 deploys on the approval "approve" of stage "approval", which has passed; a retry does not reuse an old approval, so push again or roll back instead. (said so on GitHub)',
  );
  assert.deepEqual(
    [(await deploy())?.status, (await deploy())?.attempt],
    ['failed', 1],
    'nothing deployed on the old approval',
  );
});
