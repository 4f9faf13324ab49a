import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { serverConfig, sha, type SlackSluice, slackSluicePerTest, textOf } from '../helpers/slack-sluice.ts';
import { productionVersion, REPO } from '../helpers/shop.ts';
import { ALICE, ANN, CAROL, CHANNEL, MALLORY } from '../helpers/slack-workspace.ts';
import { CANARY } from '../helpers/github-sluice.ts';
import { buttonClick, sendSlackRequest, signSlackRequest } from '../helpers/slack-requests.ts';

const startApp = slackSluicePerTest();

const buttons = (version: { blocks: Array<Record<string, unknown>> }) =>
  version.blocks
    .filter((b) => b.type === 'actions')
    .flatMap((b) => (b.elements as Array<{ action_id: string }>).map((e) => e.action_id));

const header = (version: { blocks: Array<Record<string, unknown>> }) =>
  (version.blocks[0]?.text as { text: string }).text;

function productionCheckRun(started: SlackSluice, commit: string): Record<string, unknown> | undefined {
  const created = started.github.calls.find(
    (c) => c.method === 'POST' && c.body?.name === 'Sluice: production' && c.body.head_sha === commit,
  );
  return created && started.github.checkRun(Number(created.response?.id));
}

describe('the approval card', () => {
  test('approve: the card shows what goes out and since when, then who approved and when, and the deploy in its thread', async () => {
    const started = await startApp();
    await started.push(1, 'v1');
    await started.click(started.card(), 'approve', ANN);
    assert.equal(productionVersion(started), 'v1');

    await started.push(2, 'v2', { message: 'Release v2\n\nWith the new checkout.' });
    const cards = started.slack.cards(CHANNEL);
    assert.equal(cards.length, 2);
    const card = cards[1]!;
    const open = textOf(card);
    assert.equal(header(card), `Deploy to production? · ${REPO} ${sha(2).slice(0, 7)}`);
    for (const part of [
      REPO,
      '*Branch*\nmain',
      'Release v2',
      '*Author*\nalice',
      `1 commit since what production runs, \`${sha(1).slice(0, 7)}\``,
      `/${REPO}/compare/${sha(1)}...${sha(2)}|compare>`,
      '✓ dev succeeded',
      `<@${ANN}>, <@${ALICE}>, <!subteam^S0RELEASE>`,
      'expires <!date^',
    ]) {
      assert.ok(open.includes(part), `the open card shows ${JSON.stringify(part)}:\n${open}`);
    }
    const [execution] = await started.sluice.store.listExecutions();
    const artifact = await started.sluice.store.findArtifact(execution!.id, 'app');
    assert.ok(
      open.includes(`artifact \`sha256:${artifact!.sha256.slice(0, 12)}\``),
      'the card names the artifact it is bound to',
    );
    assert.ok(open.includes('http://sluice.test/executions/'), 'the card links to the pipeline page');
    assert.deepEqual(buttons(card), ['sluice_approve', 'sluice_reject']);
    const waiting = productionCheckRun(started, sha(2));
    assert.equal((waiting?.output as { title: string }).title, 'Waiting for approval');

    await started.click(card, 'approve', CAROL);

    assert.equal(productionVersion(started), 'v2');
    const final = started.slack.messages.get(card.ts)!;
    assert.equal(header(final), `✅ Approved for production · ${REPO} ${sha(2).slice(0, 7)}`);
    assert.match(textOf(final), new RegExp(`\\*Approved by <@${CAROL}>\\* \\(<!date\\^\\d+\\^`));
    assert.match(textOf(final), /✅ Deployed to production/);
    assert.deepEqual(buttons(final), [], 'a decided card has no buttons');
    assert.deepEqual(
      final.history.map(header).map((h) => h.split(' · ')[0]),
      ['Deploy to production?', '✅ Approved for production', '✅ Approved for production'],
      'the card was posted once and updated in place',
    );
    const thread = started.slack.replies(card.ts).map((m) => m.text);
    assert.equal(thread.length, 2, JSON.stringify(thread));
    assert.match(thread[0]!, new RegExp(`^🚀 Deploying \`${sha(2).slice(0, 7)}\` to \\*production\\*…$`));
    assert.match(
      thread[1]!,
      new RegExp(
        `^✅ \\*production\\* runs \`${sha(2).slice(0, 7)}\` now \\(deployed in \\d+(?:ms|s|m(?: \\d+s)?)\\)\\. <http://sluice\\.test/executions/`,
      ),
    );

    // GitHub shows the same decision.
    const run = productionCheckRun(started, sha(2));
    assert.equal(run?.conclusion, 'success');
    assert.match(
      String((run?.output as { summary: string }).summary),
      new RegExp(`\\*\\*approve\\*\\* succeeded.*: approved by slack:${CAROL}`),
    );
    const [done] = await started.sluice.store.listExecutions();
    assert.equal(done?.status, 'succeeded');
    const log = await started.sluice.store.readLog({
      executionId: done!.id,
      stage: 'build',
      action: 'compile',
      attempt: 1,
    });
    assert.ok(
      log.some((l) => l.text === 'token is ***'),
      'the build printed the secret, masked',
    );
    assert.equal(
      JSON.stringify([started.slack.calls, started.slack.responses]).includes(CANARY),
      false,
      'the secret reached Slack',
    );
  });

  test('reject: the execution fails, nothing is deployed, and the card says who rejected it', async () => {
    const started = await startApp();
    await started.push(1, 'v1');
    const card = started.card();
    await started.click(card, 'reject', ANN);

    const final = started.slack.messages.get(card.ts)!;
    assert.equal(header(final), `⛔ Rejected for production · ${REPO} ${sha(1).slice(0, 7)}`);
    assert.match(textOf(final), new RegExp(`\\*Rejected by <@${ANN}>\\*`));
    assert.deepEqual(buttons(final), []);
    assert.deepEqual(started.slack.replies(card.ts), [], 'nothing deployed, nothing to report in the thread');
    assert.equal(productionVersion(started), undefined);
    assert.equal(existsSync(join(started.dir, 'srv-prod', 'current')), false);
    const [execution] = await started.sluice.store.listExecutions();
    assert.equal(execution?.status, 'failed');
    assert.equal(execution?.reason, `stage "production" failed: action "approve" failed: rejected by slack:${ANN}`);
    assert.equal(productionCheckRun(started, sha(1))?.conclusion, 'failure');
  });

  test('someone who is not an approver is told so privately, the refusal is recorded, and the card stays open', async () => {
    const started = await startApp();
    await started.push(1, 'v1');
    const card = started.card();
    const reply = await started.click(card, 'approve', MALLORY);
    assert.equal(reply.status, 200);

    const [told] = started.told(MALLORY);
    assert.match(
      told ?? '',
      /You are not one of the approvers of \*production\* \(<@U0ANN>, <@U0ALICE>, <!subteam\^S0RELEASE>\), so nothing was decided/,
    );
    assert.equal(started.slack.messages.get(card.ts)?.history.length, 1, 'the card was not touched');
    assert.equal((await started.gate(1))?.status, 'awaiting_approval');
    const [execution] = await started.sluice.store.listExecutions();
    const log = await started.sluice.store.readLog({
      executionId: execution!.id,
      stage: 'production',
      action: 'approve',
      attempt: 1,
    });
    assert.deepEqual(
      log.map((l) => l.text),
      [`slack:${MALLORY} tried to approve and was refused: not an approver of production`],
    );
  });

  test('the author of the change may not approve it (matched by e-mail), but may reject it', async () => {
    const started = await startApp();
    await started.push(1, 'v1');
    const card = started.card();
    await started.click(card, 'approve', ALICE);

    const [told] = started.told(ALICE);
    assert.match(
      told ?? '',
      new RegExp(
        `You wrote this change \\(\`${sha(1).slice(0, 7)}\`\\), and \\*production\\* needs someone else to approve it`,
      ),
    );
    assert.deepEqual(
      started.slack.called('users.lookupByEmail').map((c) => c.args.email),
      ['alice@example.com'],
    );
    assert.equal((await started.gate(1))?.status, 'awaiting_approval');

    await started.click(card, 'reject', ALICE);
    assert.equal((await started.gate(1))?.status, 'failed');
  });

  test('the operator’s mapping of GitHub logins to Slack users tells authors apart when e-mail does not', async () => {
    const started = await startApp({
      serverConfig: (dir) => serverConfig(dir).replace('slack:\n', `slack:\n  people:\n    alice: ${ANN}\n`),
    });
    started.slack.emails.clear();
    await started.push(1, 'v1');
    await started.click(started.card(), 'approve', ANN);
    assert.match(started.told(ANN)[0] ?? '', /You wrote this change/);
    // Slack is asked by e-mail as well (an account it finds there would be refused too); here it finds nobody, and the
    // mapping decides.
    assert.deepEqual(
      [...new Set(started.slack.called('users.lookupByEmail').map((c) => c.args.email))],
      ['alice@example.com'],
    );
    await started.click(started.card(), 'approve', CAROL);
    assert.equal(productionVersion(started), 'v1');
  });

  test('nobody decides within the timeout: the approval expires, the card says so and loses its buttons', async () => {
    const started = await startApp();
    await started.push(1, 'v1');
    const card = started.card();
    started.later(23 * 3_600_000);
    assert.equal(await started.sluice.sweep(), 0, 'not yet');
    started.later(2 * 3_600_000);
    assert.equal(await started.sluice.sweep(), 1);
    await started.sluice.idle();

    const final = started.slack.messages.get(card.ts)!;
    assert.equal(header(final), `⌛ Expired: not deployed to production · ${REPO} ${sha(1).slice(0, 7)}`);
    assert.match(textOf(final), /\*Expired: nobody decided within 24h\*/);
    assert.match(textOf(final), /was open until <!date\^/);
    assert.deepEqual(buttons(final), []);
    const [execution] = await started.sluice.store.listExecutions();
    assert.equal(execution?.status, 'failed');
    assert.equal(productionVersion(started), undefined);

    await started.click(card, 'approve', ANN);
    assert.match(
      started.told(ANN)[0] ?? '',
      /Nothing changed: this approval is already closed \(expired: nobody decided within 24h\)/,
    );
    assert.equal(productionVersion(started), undefined);
  });

  test('a newer commit reaching the gate supersedes the waiting approval: its card says by which, and the new card decides', async () => {
    const started = await startApp();
    await started.push(1, 'v1');
    const first = started.card();
    await started.push(2, 'v2');

    const closed = started.slack.messages.get(first.ts)!;
    assert.equal(header(closed), `⏭ Superseded: not deployed to production · ${REPO} ${sha(1).slice(0, 7)}`);
    assert.match(textOf(closed), new RegExp(`\\*Superseded by execution #2 \\(${sha(2).slice(0, 7)}\\)\\*`));
    assert.deepEqual(buttons(closed), []);
    const second = started.card();
    assert.notEqual(second.ts, first.ts);
    assert.equal(header(second), `Deploy to production? · ${REPO} ${sha(2).slice(0, 7)}`);

    await started.click(first, 'approve', ANN);
    assert.match(
      started.told(ANN)[0] ?? '',
      /Nothing changed: this approval is already closed \(superseded by execution #2/,
    );
    await started.click(second, 'approve', ANN);
    assert.equal(productionVersion(started), 'v2');
  });
});

describe('clicks Slack sends twice, at once, late or forged', () => {
  test('Approve and Reject clicked at once: exactly one wins, and the other is told', async () => {
    const started = await startApp();
    await started.push(1, 'v1');
    const card = started.card();
    const replies = await Promise.all([
      sendSlackRequest(started.sluice.url, signSlackRequest(buttonClick(card, 'sluice_approve', ANN))),
      sendSlackRequest(started.sluice.url, signSlackRequest(buttonClick(card, 'sluice_reject', CAROL))),
    ]);
    assert.deepEqual(
      replies.map((r) => r.status),
      [200, 200],
    );
    await started.sluice.idle();

    const [execution] = await started.sluice.store.listExecutions();
    const decisions = (await started.sluice.store.listHistory(execution!.id)).filter(
      (h) => h.entity === 'action' && h.action === 'approve' && h.from === 'awaiting_approval',
    );
    assert.equal(decisions.length, 1, JSON.stringify(decisions));
    const winner = decisions[0]!.to === 'succeeded' ? ANN : CAROL;
    const loser = winner === ANN ? CAROL : ANN;
    assert.deepEqual(started.told(winner), []);
    assert.match(
      started.told(loser)[0] ?? '',
      new RegExp(`Nothing changed: this approval is already closed \\((approved|rejected) by <@${winner}>\\)`),
    );
    assert.match(textOf(started.slack.messages.get(card.ts)!), new RegExp(`by <@${winner}>\\*`));
    assert.equal(productionVersion(started), winner === ANN ? 'v1' : undefined);
  });

  test('the same signed click replayed changes nothing; one older than five minutes is refused with 401', async () => {
    const started = await startApp();
    await started.push(1, 'v1');
    const click = signSlackRequest(buttonClick(started.card(), 'sluice_approve', ANN));
    assert.equal((await sendSlackRequest(started.sluice.url, click)).status, 200);
    await started.sluice.idle();
    const [execution] = await started.sluice.store.listExecutions();
    const history = await started.sluice.store.listHistory(execution!.id);
    const calls = started.slack.calls.length;

    assert.equal((await sendSlackRequest(started.sluice.url, click)).status, 200);
    await started.sluice.idle();
    assert.deepEqual(await started.sluice.store.listHistory(execution!.id), history, 'the replay changed no state');
    // The same request is the same delivery (its trigger_id too), as when Slack sends a click again: taken once.
    assert.deepEqual(
      started.slack.calls.slice(calls).map((c) => c.method),
      [],
      'the replay was not answered again',
    );
    assert.ok(
      started.logs.some((line) => line.startsWith('Slack delivered a button click again;')),
      JSON.stringify(started.logs),
    );
    assert.equal(productionVersion(started), 'v1');

    await started.push(2, 'v2');
    const stale = signSlackRequest(buttonClick(started.card(), 'sluice_approve', ANN), {
      timestamp: Math.floor(Date.now() / 1000) - 6 * 60,
    });
    assert.equal((await sendSlackRequest(started.sluice.url, stale)).status, 401);
    await started.sluice.idle();
    assert.equal((await started.gate(2))?.status, 'awaiting_approval');
  });

  test('a bad signature is refused with 401 and changes nothing', async () => {
    const started = await startApp();
    await started.push(1, 'v1');
    const calls = started.slack.calls.length;
    for (const request of [
      signSlackRequest(buttonClick(started.card(), 'sluice_approve', ANN), { tamper: true }),
      signSlackRequest(buttonClick(started.card(), 'sluice_approve', ANN), { secret: 'another-apps-secret' }),
      {
        ...signSlackRequest(buttonClick(started.card(), 'sluice_approve', ANN)),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      },
    ]) {
      assert.equal((await sendSlackRequest(started.sluice.url, request)).status, 401);
    }
    await started.sluice.idle();
    assert.equal((await started.gate(1))?.status, 'awaiting_approval');
    assert.deepEqual(started.slack.calls.slice(calls), [], 'nothing was sent to Slack');
  });

  test('a click bound to another artifact, or to an execution Sluice does not have, decides nothing', async () => {
    const started = await startApp();
    await started.push(1, 'v1');
    const card = started.card();
    const forged = (change: (value: Record<string, unknown>) => void) => {
      const copy = structuredClone(card);
      const button = (
        copy.blocks.find((b) => b.type === 'actions')!.elements as Array<{ action_id: string; value: string }>
      ).find((e) => e.action_id === 'sluice_approve')!;
      const value = JSON.parse(button.value) as Record<string, unknown>;
      change(value);
      button.value = JSON.stringify(value);
      return signSlackRequest(buttonClick(copy, 'sluice_approve', ANN));
    };
    for (const request of [
      forged((v) => (v.d = 'f'.repeat(64))),
      forged((v) => (v.e = 'no-such-execution')),
      forged((v) => (v.n = 'one')),
    ]) {
      assert.equal((await sendSlackRequest(started.sluice.url, request)).status, 200);
      await started.sluice.idle();
    }
    const told = started.told(ANN);
    assert.match(
      told[0] ?? '',
      /The artifact changed since this card was posted, so this approval no longer holds; nothing was decided/,
    );
    assert.match(told[1] ?? '', /This card is not one Sluice can match to an approval; nothing was decided/);
    assert.match(told[2] ?? '', /This card is not one Sluice can match to an approval/);
    assert.equal((await started.gate(1))?.status, 'awaiting_approval');
  });
});

describe('when Slack fails', () => {
  test('a card Slack did not take is posted at the next sweep, and a click Sluice could not check is told to try again', async () => {
    const started = await startApp();
    started.slack.failNext('chat.postMessage');
    await started.push(1, 'v1');
    assert.deepEqual(started.slack.cards(CHANNEL), []);
    assert.match(
      started.logs.join('\n'),
      /Sluice could not update Slack: Slack's chat\.postMessage failed: fatal_error/,
    );

    await started.sluice.sweep();
    await started.sluice.idle();
    const card = started.card();
    assert.equal(header(card), `Deploy to production? · ${REPO} ${sha(1).slice(0, 7)}`);

    started.slack.failNext('usergroups.users.list');
    await started.click(card, 'approve', CAROL);
    assert.equal(
      started.told(CAROL)[0],
      'Sluice failed to handle your click, so nothing was decided; its log says why. Try again in a moment.',
    );
    assert.equal((await started.gate(1))?.status, 'awaiting_approval');
    await started.click(card, 'approve', CAROL);
    assert.equal(productionVersion(started), 'v1');
  });
});
