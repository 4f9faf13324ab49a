import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { serverConfig, sha, type SlackSluice, slackSluicePerTest } from '../helpers/slack-sluice.ts';
import { productionPipeline, productionVersion, REPO, shopFiles } from '../helpers/shop.ts';
import { ALICE, ANN, CAROL, CHANNEL, MALLORY } from '../helpers/slack-workspace.ts';
import { findActionSummary, findStageSummary } from '../../src/store/store.ts';

const startApp = slackSluicePerTest();

/** Pushes commit n and approves it in Slack. */
async function release(started: SlackSluice, n: number, version: string): Promise<void> {
  await started.push(n, version);
  await started.click(started.card(), 'approve', ANN);
  assert.equal(productionVersion(started), version);
}

describe('/sluice', () => {
  test('status is open to everyone: each pipeline’s newest execution, locked environments, and one repository stage by stage', async () => {
    const started = await startApp();
    await started.push(1, 'v1');
    await started.command('lock production release freeze', ANN);

    const overview = await started.command('status', MALLORY);
    assert.equal(overview.response_type, 'ephemeral');
    assert.match(
      String(overview.text),
      new RegExp(
        `^\\*${REPO}\\* <http://sluice\\.test/executions/[^|]+\\|#1> \`${sha(1).slice(0, 7)}\` main — ⏸ waiting for approval in production$`,
        'm',
      ),
    );
    assert.match(
      String(overview.text),
      new RegExp(`^🔒 \\*production\\* is locked by <@${ANN}>: release freeze$`, 'm'),
    );

    const one = await started.command('status shop', MALLORY);
    assert.match(
      String(one.text),
      /^\*acme\/shop\*\n<[^|]+\|#1> `[0-9a-f]{7}` main — ⏸ waiting for approval in production\n {6}build ✅ · dev ✅ · production ⏸$/,
    );
  });

  test('status is refused to whoever the operator did not list, and unlisted commands to everyone', async () => {
    const started = await startApp({
      serverConfig: (dir) =>
        serverConfig(dir)
          .replace('slack:\n  commands:\n', `slack:\n  commands:\n    status: [${ANN}]\n`)
          .replace(/ {4}lock: \[.*\]\n/, ''),
    });
    assert.equal((await started.command('status', MALLORY)).text, `You may not run \`/sluice status\`; ask <@${ANN}>.`);
    assert.equal(
      (await started.command('lock production', ANN)).text,
      "Nobody may run `/sluice lock` yet: the operator lists who may in Sluice's server config, under `slack.commands.lock`.",
    );
    assert.match(String((await started.command('status', ANN)).text), /Sluice has run no pipeline yet/);
  });

  test('run starts the pipeline for the default branch or a named commit; others may not', async () => {
    const started = await startApp();
    await started.push(1, 'v1');
    await started.click(started.card(), 'reject', ANN);
    started.github.addCommit(
      REPO,
      sha(2),
      {
        '.github/sluice.yml': productionPipeline(),
        VERSION: 'v2\n',
        'deploy/start.sh': 'cat dist/VERSION > started\n',
      },
      { message: 'Release v2', author: { name: 'Bob', email: 'bob@example.com', login: 'bob' } },
    );

    const refused = await started.command('run acme/shop', CAROL);
    assert.equal(refused.text, `You may not run \`/sluice run\`; ask <@${ANN}>.`);
    assert.equal((await started.sluice.store.listExecutions()).length, 1);

    const answer = await started.command('run acme/shop', ANN);
    assert.equal(answer.response_type, 'in_channel');
    assert.equal(answer.text, `<@${ANN}> started execution #2 of *acme/shop* at \`${sha(2).slice(0, 7)}\` (main).`);
    const [execution] = await started.sluice.store.listExecutions();
    assert.equal(execution?.trigger, `run from Slack by slack:${ANN}`);
    assert.deepEqual(execution?.revision, {
      sha: sha(2),
      ref: 'main',
      message: 'Release v2',
      author: 'bob',
      authorLogin: 'bob',
      authorEmail: 'bob@example.com',
      committerLogin: 'bob',
      committerEmail: 'bob@example.com',
    });
    assert.equal(
      (execution && findStageSummary(execution, 'production'))?.actions[0]?.status,
      'awaiting_approval',
      'it ran to the gate',
    );

    const byCommit = await started.command(`run acme/shop ${sha(1).slice(0, 10)}`, ANN);
    assert.match(
      String(byCommit.text),
      new RegExp(`started execution #3 of \\*acme/shop\\* at \`${sha(1).slice(0, 7)}\`\\.$`),
    );
    assert.equal(
      (await started.command('run acme/shop no-such-branch', ANN)).text,
      'Not started: acme/shop has no branch, tag or commit "no-such-branch".',
    );
    assert.equal(
      (await started.command('run acme/other', ANN)).text,
      "Not started: the GitHub App is not installed on acme/other: install it there from the app's page on GitHub (Install App), then run again.",
    );
  });

  test('run works for a repository the app is installed on before its first push: GitHub names the installation', async () => {
    const started = await startApp();
    started.github.install(REPO, 77);
    started.github.addCommit(
      REPO,
      sha(1),
      {
        '.github/sluice.yml': productionPipeline(),
        VERSION: 'v1\n',
        'deploy/start.sh': 'cat dist/VERSION > started\n',
      },
      { message: 'Release v1' },
    );
    const answer = await started.command('run acme/shop', ANN);
    assert.equal(answer.text, `<@${ANN}> started execution #1 of *acme/shop* at \`${sha(1).slice(0, 7)}\` (main).`);
    await started.sluice.idle();
    const [execution] = await started.sluice.store.listExecutions();
    assert.equal(
      (execution && findStageSummary(execution, 'production'))?.actions[0]?.status,
      'awaiting_approval',
      'it ran to the gate',
    );
    const asked = started.github.calls.filter((c) => c.path === `/repos/${REPO}/installation`);
    assert.deepEqual(
      asked.map((c) => c.status),
      [200],
      'asked once, as the app',
    );
    assert.ok(started.github.calls.some((c) => c.path === '/app/installations/77/access_tokens' && c.status === 201));
    // The installation is remembered: the next run does not ask again.
    await started.command('run acme/shop', ANN);
    assert.equal(started.github.calls.filter((c) => c.path === `/repos/${REPO}/installation`).length, 1);
  });

  test('lock makes deploys to an environment fail until unlock, and retry carries the failed stage on, asking its approval again', async () => {
    const started = await startApp();
    assert.equal(
      (await started.command('lock production', MALLORY)).text,
      `You may not run \`/sluice lock\`; ask <@${ANN}>.`,
    );
    const locked = await started.command('lock production release freeze', ANN);
    assert.equal(locked.response_type, 'in_channel');
    assert.equal(
      locked.text,
      `🔒 <@${ANN}> locked *production*: release freeze. Deploys to it fail until \`/sluice unlock production\`.`,
    );
    assert.equal(
      (await started.command('lock staging', ANN)).text,
      'There is no environment "staging" in Sluice\'s server config (its environments: dev, production).',
    );

    await started.push(1, 'v1');
    await started.click(started.card(), 'approve', ANN);
    let [execution] = await started.sluice.store.listExecutions();
    assert.equal(execution?.status, 'failed');
    assert.match(
      execution?.reason ?? '',
      new RegExp(`environment "production" is locked by slack:${ANN}: release freeze`),
    );
    assert.equal(productionVersion(started), undefined);
    assert.match(
      started.slack.replies(started.card().ts).at(-1)?.text ?? '',
      /❌ The deploy of `[0-9a-f]{7}` to \*production\* failed: environment "production" is locked by slack:U0ANN: release freeze/,
    );

    assert.equal(
      (await started.command('unlock production', MALLORY)).text,
      `You may not run \`/sluice unlock\`; ask <@${ANN}>.`,
    );
    const unlocked = await started.command('unlock production', ANN);
    assert.equal(unlocked.text, `🔓 <@${ANN}> unlocked *production* (locked by <@${ANN}>: release freeze).`);
    assert.equal((await started.command('unlock production', ANN)).text, '*production* is not locked.');

    assert.equal(
      (await started.command('retry acme/shop', MALLORY)).text,
      'You may not run `/sluice retry`; ask <!subteam^S0RELEASE>.',
    );
    const retried = await started.command('retry acme/shop', CAROL);
    assert.equal(retried.text, `<@${CAROL}> is retrying stage *production* of *acme/shop* #1.`);
    // The deploy runs again, so its approval asks again rather than let it out on the old decision.
    await started.sluice.idle();
    [execution] = await started.sluice.store.listExecutions();
    const gate = execution && findActionSummary(execution, 'production', 'approve');
    assert.deepEqual([gate?.status, gate?.attempt], ['awaiting_approval', 2]);
    assert.equal(productionVersion(started), undefined);
    await started.click(started.card(), 'approve', ANN);
    [execution] = await started.sluice.store.listExecutions();
    assert.equal(execution?.status, 'succeeded');
    assert.equal(productionVersion(started), 'v1');
    assert.equal(
      (await started.command('retry acme/shop', CAROL)).text,
      'The newest execution of *acme/shop* (#1, succeeded) has no failed stage to retry.',
    );
  });

  test('cancel stops the newest running execution, or the one named; others may not', async () => {
    const started = await startApp();
    await started.push(1, 'v1');
    assert.equal(
      (await started.command('cancel acme/shop', MALLORY)).text,
      `You may not run \`/sluice cancel\`; ask <@${ANN}>.`,
    );
    assert.equal((await started.sluice.store.getExecution(1))?.status, 'running');

    const answer = await started.command('cancel shop', ANN);
    assert.equal(answer.response_type, 'in_channel');
    assert.equal(answer.text, `⊘ <@${ANN}> cancelled execution #1 of *acme/shop* (\`${sha(1).slice(0, 7)}\`).`);
    const execution = await started.sluice.store.getExecution(1);
    assert.equal(execution?.status, 'cancelled');
    assert.equal(execution?.reason, `cancelled by slack:${ANN}`);
    assert.match(started.card().text, /Cancelled/);

    assert.equal(
      (await started.command('cancel acme/shop', ANN)).text,
      '*acme/shop* has no running execution to cancel.',
    );
    assert.equal(
      (await started.command('cancel acme/shop #1', ANN)).text,
      'Execution #1 is already cancelled; there is nothing to cancel.',
    );
    assert.equal((await started.command('cancel acme/shop 9', ANN)).text, '*acme/shop* has no execution #9.');
    assert.equal(
      (await started.command('cancel acme/shop latest', ANN)).text,
      '"latest" is not an execution: give its number, such as 12 or #12.',
    );
  });

  test('rollback deploys the release the environment ran before; others may not', async () => {
    const started = await startApp();
    await release(started, 1, 'v1');
    await release(started, 2, 'v2');
    assert.equal(
      (await started.command('rollback acme/shop production', CAROL)).text,
      `You may not run \`/sluice rollback\`; ask <@${ANN}>.`,
    );
    assert.equal(productionVersion(started), 'v2');

    const answer = await started.command('rollback acme/shop production', ANN);
    assert.equal(answer.response_type, 'in_channel');
    assert.equal(
      answer.text,
      `<@${ANN}> is rolling *production* of *acme/shop* back to #1 (\`${sha(1).slice(0, 7)}\`) in execution #3; it waits for an approval in <#${CHANNEL}>.`,
    );
    // Production has approval rules, so the rollback asks someone other than who started it.
    assert.equal(productionVersion(started), 'v2');
    await started.click(started.card(), 'approve', CAROL);
    assert.equal(productionVersion(started), 'v1');
    const [rollback] = await started.sluice.store.listExecutions();
    assert.equal(rollback?.status, 'succeeded');
  });

  test('disable holds executions before a stage, enable lets them in; others may not', async () => {
    const started = await startApp();
    await started.push(1, 'v1');
    await started.click(started.card(), 'reject', ANN);
    assert.equal(
      (await started.command('disable acme/shop production', MALLORY)).text,
      `You may not run \`/sluice disable\`; ask <@${ANN}>.`,
    );
    const disabled = await started.command('disable acme/shop production waiting for the migration', ANN);
    assert.equal(
      disabled.text,
      `<@${ANN}> disabled the transition into *production* of *acme/shop*: waiting for the migration. Executions wait before it until \`/sluice enable acme/shop production\`.`,
    );

    await started.push(2, 'v2');
    const [held] = await started.sluice.store.listExecutions();
    assert.equal((held && findStageSummary(held, 'production'))?.status, 'waiting');
    assert.equal(started.slack.cards('C0DEPLOYS').length, 1, 'no card while the transition is disabled');
    assert.match(
      String((await started.command('status acme/shop', MALLORY)).text),
      /⏳ waiting to enter production \(the transition into "production" is disabled: waiting for the migration\)/,
    );

    assert.equal(
      (await started.command('enable acme/shop production', MALLORY)).text,
      `You may not run \`/sluice enable\`; ask <@${ANN}>.`,
    );
    const enabled = await started.command('enable acme/shop production', ANN);
    assert.equal(
      enabled.text,
      `<@${ANN}> enabled the transition into *production* of *acme/shop*; executions waiting at it go on.`,
    );
    assert.equal(started.slack.cards('C0DEPLOYS').length, 2);
    assert.match(started.card().text, new RegExp(`^Deploy to production\\? · acme/shop ${sha(2).slice(0, 7)}$`));
    assert.equal(
      (await started.command('disable acme/shop prod', ANN)).text,
      '*acme/shop* has no stage "prod" (its stages: build, dev, production).',
    );
  });

  test('a mistake is answered with what to type instead', async () => {
    const started = await startApp();
    const say = async (text: string) => String((await started.command(text, ALICE)).text);
    assert.match(await say(''), /^\*Sluice commands\*\n• `\/sluice status \[repo\]`/);
    assert.match(await say('deploy acme/shop'), /^Sluice has no command "deploy"\.\n\*Sluice commands\*/);
    assert.equal(
      await say('rollback acme/shop'),
      '`/sluice rollback` needs a repository and an environment, for example `/sluice rollback acme/shop production`.\n`/sluice rollback <repo> <environment>` — deploy the release the environment ran before',
    );
    assert.equal(
      await say('status $(touch /tmp/x)'),
      '"$(touch" is not a repository: write it as owner/name, such as acme/shop.',
    );
    assert.equal(await say('status acme/nothing'), 'Sluice has no pipeline for "acme/nothing".');
  });

  test('status and retry speak of the newest push, not of an older push delivered after it and shown superseded', async () => {
    const started = await startApp();
    await started.command('lock production release freeze', ANN);
    started.github.addCommit(REPO, sha(1), shopFiles('v1'), { message: 'Release v1' });
    started.github.addCommit(REPO, sha(2), shopFiles('v2'), { message: 'Release v2' });
    const pushedAt = 2_100_000_000;
    const newer = await started.sendPush(
      { before: sha(1), after: sha(2), message: 'Release v2', pushedAt: pushedAt + 5 },
      { delivery: 'newer' },
    );
    assert.equal(newer.status, 200, newer.text);
    await started.sluice.idle();
    await started.click(started.card(), 'approve', ANN);
    // Commit 1's push, delivered late: created superseded by commit 2, with the next number.
    const older = await started.sendPush({ after: sha(1), message: 'Release v1', pushedAt }, { delivery: 'older' });
    assert.equal(older.status, 200, older.text);
    await started.sluice.idle();
    assert.deepEqual(
      (await started.sluice.store.listExecutions()).map((e) => [e.seq, e.revision.sha, e.status]),
      [
        [2, sha(1), 'superseded'],
        [1, sha(2), 'failed'],
      ],
    );

    const overview = await started.command('status', MALLORY);
    assert.match(
      String(overview.text),
      new RegExp(`^\\*${REPO}\\* <http://sluice\\.test/executions/[^|]+\\|#1> \`${sha(2).slice(0, 7)}\` main — `, 'm'),
    );
    await started.command('unlock production', ANN);
    const retried = await started.command('retry acme/shop', CAROL);
    assert.equal(retried.text, `<@${CAROL}> is retrying stage *production* of *acme/shop* #1.`);
    await started.sluice.idle();
    await started.click(started.card(), 'approve', ANN);
    assert.equal(productionVersion(started), 'v2');
  });
});
