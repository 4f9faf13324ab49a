/**
 * *Roll back* on a production check run obeys the operator, like `/sluice
 * rollback`: the button is only on the check run of the release production
 * runs now, only GitHub users the server config lets roll back may press it
 * (by `github.rollback`, or `slack.people` mapping them to a Slack user of
 * `slack.commands.rollback`), and the rollback waits for an approval in
 * Slack. Each refusal is recorded with why, and nothing deploys.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkRunPayload } from '../helpers/github-webhooks.ts';
import { productionVersion, REPO } from '../helpers/shop.ts';
import { serverConfig, sha, type SlackSluice, slackSluicePerTest } from '../helpers/slack-sluice.ts';
import { ANN, CAROL, CHANNEL } from '../helpers/slack-workspace.ts';

const startApp = slackSluicePerTest();

/** The production check run of a commit, as GitHub shows it now. */
function productionRun(started: SlackSluice, commit: string): { id: number; actions: string[] } {
  const created = started.github.calls.find(
    (c) =>
      c.method === 'POST' && c.body?.name === 'Sluice: production' && c.body.head_sha === commit && c.status === 201,
  );
  const id = Number(created?.response?.id);
  const actions = (started.github.checkRun(id)?.actions as Array<{ identifier: string }> | undefined) ?? [];
  return { id, actions: actions.map((a) => a.identifier) };
}

let deliveries = 0;
async function pressRollBack(started: SlackSluice, commit: string, login: string): Promise<string> {
  const delivery = `roll-back-${++deliveries}`;
  const payload = checkRunPayload({
    action: 'requested_action',
    id: productionRun(started, commit).id,
    appId: started.github.appId,
    name: 'Sluice: production',
    headSha: commit,
    repo: REPO,
    conclusion: 'success',
    output: { title: 'production', summary: 'Deployed' },
    requestedAction: 'rollback',
    sender: login,
  });

  assert.equal((await started.send('check_run', payload, { delivery })).status, 200);
  await started.sluice.idle();
  return (await started.sluice.store.getDelivery(delivery))?.note ?? '';
}

async function release(started: SlackSluice, n: number, version: string): Promise<void> {
  await started.push(n, version);
  await started.click(started.card(), 'approve', ANN);
  assert.equal(productionVersion(started), version);
}

const withPeople = (dir: string) =>
  serverConfig(dir).replace('slack:\n', `slack:\n  people:\n    ann-gh: ${ANN}\n    carol-gh: ${CAROL}\n`);

describe('Roll back from GitHub', () => {
  test('the button is only on the release production runs now; older check runs lose it', async () => {
    const started = await startApp({ serverConfig: withPeople });
    await release(started, 1, 'v1');
    assert.deepEqual(productionRun(started, sha(1)).actions, ['rollback']);
    await release(started, 2, 'v2');
    assert.deepEqual(productionRun(started, sha(2)).actions, ['rollback']);
    assert.deepEqual(productionRun(started, sha(1)).actions, [], 'v1 is no longer what production runs');

    // A request for the old check run's button anyway: refused, nothing starts.
    const executions = (await started.sluice.store.listExecutions()).length;
    assert.equal(
      await pressRollBack(started, sha(1), 'ann-gh'),
      'not rolled back: this check run is of #1, not of the release production runs now (production runs #2 now; roll back from its check run)',
    );
    assert.equal((await started.sluice.store.listExecutions()).length, executions);
    assert.equal(productionVersion(started), 'v2');
  });

  test('a GitHub user the operator did not allow is refused, and nothing deploys', async () => {
    const started = await startApp({ serverConfig: withPeople });
    await release(started, 1, 'v1');
    await release(started, 2, 'v2');
    const executions = (await started.sluice.store.listExecutions()).length;
    const rule =
      'the server config lets the logins of github.rollback do it, and the Slack users of slack.commands.rollback whose login slack.people maps';
    assert.equal(
      await pressRollBack(started, sha(2), 'mallory'),
      `not rolled back: GitHub user @mallory may not roll back production: ${rule}`,
    );
    assert.equal(
      await pressRollBack(started, sha(2), 'carol-gh'),
      `not rolled back: GitHub user @carol-gh may not roll back production: ${rule} (@carol-gh is Slack user ${CAROL}, whom slack.commands.rollback does not list)`,
    );
    assert.equal((await started.sluice.store.listExecutions()).length, executions);
    assert.equal(productionVersion(started), 'v2');
  });

  test('an allowed user’s rollback waits for an approval in Slack, which they may not give themselves', async () => {
    const started = await startApp({ serverConfig: withPeople });
    await release(started, 1, 'v1');
    await release(started, 2, 'v2');
    assert.equal(
      await pressRollBack(started, sha(2), 'ann-gh'),
      'rolling production back to #1 in execution #3, once approved',
    );
    assert.equal(productionVersion(started), 'v2', 'nothing deployed before the approval');

    const card = started.card();
    assert.match(JSON.stringify(card.blocks), /Deploy to production\? · acme\/shop/);
    await started.click(card, 'approve', ANN);
    assert.match(
      started.slack
        .called('chat.postEphemeral')
        .filter((c) => c.args.user === ANN && c.args.channel === CHANNEL)
        .at(-1)?.args.text as string,
      /^You started this run/,
    );
    assert.equal(productionVersion(started), 'v2');
    await started.click(started.card(), 'approve', CAROL);
    assert.equal(productionVersion(started), 'v1');
    const [rollback] = await started.sluice.store.listExecutions();
    assert.equal(rollback?.trigger, `rollback of production to #1 (${sha(1).slice(0, 7)}) by github:ann-gh`);
    assert.equal(rollback?.status, 'succeeded');
  });

  test('with skip_for_rollbacks, an allowed login of github.rollback rolls back at once', async () => {
    const started = await startApp({
      serverConfig: (dir) =>
        `${withPeople(dir).replace('      timeout: 24h\n', '      timeout: 24h\n      skip_for_rollbacks: true\n')}github:\n  rollback: [dave]\n`,
    });
    await release(started, 1, 'v1');
    await release(started, 2, 'v2');
    assert.equal(await pressRollBack(started, sha(2), 'dave'), 'rolling production back to #1 in execution #3');
    assert.equal(productionVersion(started), 'v1');
  });
});
