/**
 * Nobody approves their own push (PRODUCT K2), whatever the commit says:
 * `git commit --author` names anyone, so the pusher (the push's sender), the
 * authors and committers of every commit since what production runs, and
 * whoever retried the execution are refused, each told why; someone who
 * cannot be matched to a Slack user is named on the card.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { productionVersion, REPO, shopFiles } from '../helpers/shop.ts';
import { serverConfig, sha, type SlackSluice, slackSluicePerTest } from '../helpers/slack-sluice.ts';
import { ALICE, ANN, CAROL, CHANNEL } from '../helpers/slack-workspace.ts';

const startApp = slackSluicePerTest();

const CAROL_GIT = { name: 'Carol', email: 'carol@example.com', login: 'carol' };
const ANN_GIT = { name: 'Ann', email: 'ann@example.com', login: 'ann' };

const cardText = (started: SlackSluice) => JSON.stringify(started.card().blocks);

async function refused(started: SlackSluice, user: string, why: string, commit: string): Promise<void> {
  await started.click(started.card(), 'approve', user);
  assert.equal(
    started.told(user).at(-1),
    `You ${why} (\`${commit.slice(0, 7)}\`), and *production* needs someone else to approve it; nothing was decided. You may still reject it.`,
  );
}

describe('nobody approves their own push', () => {
  test('a pusher who names someone else as the author is still the pusher: both are refused, nothing deploys until a third approves', async () => {
    const started = await startApp();
    started.slack.emails.set('carol@example.com', CAROL);
    started.slack.emails.set('ann@example.com', ANN);
    await started.push(1, 'v1', { author: ANN_GIT, sender: { login: 'carol', email: 'carol@example.com' } });

    await refused(started, CAROL, 'pushed this change', sha(1));
    await refused(started, ANN, 'wrote this change', sha(1));
    assert.equal((await started.gate(1))?.status, 'awaiting_approval');
    assert.equal(productionVersion(started), undefined, 'nothing was deployed');
    const execution = (await started.sluice.store.listExecutions())[0]!;
    const log = await started.sluice.store.readLog({
      executionId: execution.id,
      stage: 'production',
      action: 'approve',
      attempt: 1,
    });
    assert.deepEqual(
      log.map((l) => l.text),
      [
        `slack:${CAROL} tried to approve and was refused: they pushed this change, so someone else must approve it`,
        `slack:${ANN} tried to approve and was refused: they wrote this change, so someone else must approve it`,
      ],
    );

    await started.click(started.card(), 'approve', ALICE);
    assert.equal(productionVersion(started), 'v1');
  });

  test('a commit whose author *name* is an approver’s login does not make that approver an author: only logins GitHub tells count', async () => {
    const started = await startApp({
      serverConfig: (dir) => serverConfig(dir).replace('slack:\n', `slack:\n  people:\n    ann: ${ANN}\n`),
    });
    started.slack.emails.set('carol@example.com', CAROL);
    // `git commit --author "ann <mallory@evil.example>"`: GitHub knows no account for it, so the push carries no
    // username.
    const forged = { name: 'ann', email: 'mallory@evil.example' };
    await started.push(1, 'v1', {
      author: forged,
      committer: forged,
      sender: { login: 'carol', email: 'carol@example.com' },
    });
    assert.doesNotMatch(cardText(started), /GitHub user @ann/, 'the forged name is not taken for a login');
    await refused(started, CAROL, 'pushed this change', sha(1));
    await started.click(started.card(), 'approve', ANN);
    assert.equal(started.told(ANN).length, 0, 'ann was not refused');
    assert.equal(productionVersion(started), 'v1', 'ann’s approval let it through');
  });

  test('the authors and committers of every commit since what production runs are refused, not only the head commit’s', async () => {
    const started = await startApp();
    started.slack.emails.set('carol@example.com', CAROL);
    started.slack.emails.set('ann@example.com', ANN);
    await started.push(1, 'v1');
    await started.click(started.card(), 'approve', ANN);
    assert.equal(productionVersion(started), 'v1');

    // Commit 2 comes in with commit 3's push: Carol wrote it, Ann committed it.
    started.github.addCommit(REPO, sha(2), shopFiles('v2'), { author: CAROL_GIT, committer: ANN_GIT });
    await started.push(3, 'v3');
    await refused(started, CAROL, `wrote ${sha(2).slice(0, 7)}`, sha(3));
    await refused(started, ANN, `committed ${sha(2).slice(0, 7)}`, sha(3));
    await refused(started, ALICE, 'wrote this change', sha(3));
    assert.equal((await started.gate(2))?.status, 'awaiting_approval');
    assert.equal(productionVersion(started), 'v1', 'v3 was not deployed');
  });

  test('past GitHub’s 250 commits of a compare, the older ones are paged in: the author of the oldest is refused too', async () => {
    const started = await startApp();
    started.slack.emails.set('carol@example.com', CAROL);
    await started.push(1, 'v1');
    await started.click(started.card(), 'approve', ANN);
    assert.equal(productionVersion(started), 'v1');

    started.slack.emails.set('ann@example.com', ANN);
    // 300 commits come in with commit 302's push; Carol wrote only the oldest, which an unpaged compare leaves out.
    started.github.addCommit(REPO, sha(2), shopFiles('v2'), { author: CAROL_GIT, tarball: false });
    for (let n = 3; n <= 301; n++)
      started.github.addCommit(REPO, sha(n), shopFiles(`v${n}`), { author: ANN_GIT, tarball: false });
    await started.push(302, 'v302');
    const compares = started.github.calls.filter(
      (c) => c.path.startsWith(`/repos/${REPO}/compare/`) && c.path.endsWith(sha(302)),
    );
    assert.deepEqual(
      compares.map((c) => c.query),
      [{}, { per_page: '100', page: '1' }],
      'the newest 250 first, then the 51 older by page',
    );
    assert.match(cardText(started), /301 commits since what production runs/);
    assert.doesNotMatch(cardText(started), /GitHub listed/);
    await refused(started, CAROL, `wrote ${sha(2).slice(0, 7)}`, sha(302));
    await refused(started, ANN, `wrote ${sha(3).slice(0, 7)}`, sha(302));
  });

  test('a pusher Slack fails to look up gets no card to approve until the lookup works, and is then refused', async () => {
    const started = await startApp();
    started.slack.emails.set('carol@example.com', CAROL);
    started.slack.failNext('users.lookupByEmail', 'internal_error');
    await started.push(1, 'v1', { sender: { login: 'carol', email: 'carol@example.com' } });
    assert.equal(started.slack.cards(CHANNEL).length, 0, 'no card while Slack cannot say who pushed');
    assert.equal((await started.gate(1))?.status, 'awaiting_approval');

    // The next sweep tries the card again, and Slack answers now.
    await started.sluice.sweep();
    await started.sluice.idle();
    await refused(started, CAROL, 'pushed this change', sha(1));
    assert.equal(productionVersion(started), undefined, 'nothing was deployed');
  });

  test('a pusher mapped by login to one Slack account is also the account Slack finds by their e-mail: neither approves', async () => {
    // The operator maps carol's login to her usual account; the pusher's e-mail belongs in Slack to another of hers, an
    // approver.
    const started = await startApp({
      serverConfig: (dir) => serverConfig(dir).replace('slack:\n', `slack:\n  people:\n    carol: ${CAROL}\n`),
    });
    started.slack.emails.set('carol@example.com', ALICE);
    await started.push(1, 'v1', {
      author: CAROL_GIT,
      committer: CAROL_GIT,
      sender: { login: 'carol', email: 'carol@example.com' },
    });

    await refused(started, ALICE, 'wrote this change', sha(1));
    assert.equal((await started.gate(1))?.status, 'awaiting_approval');
    assert.equal(productionVersion(started), undefined, 'nothing was deployed');
    await started.click(started.card(), 'approve', ANN);
    assert.equal(productionVersion(started), 'v1');
  });

  test('a pusher Slack cannot match is named on the card', async () => {
    const started = await startApp();
    await started.push(1, 'v1', {
      author: { name: 'Mallory', email: 'mallory@evil.example', login: 'mallory-gh' },
      sender: { login: 'mallory-gh', email: 'mallory@evil.example' },
    });
    assert.match(
      cardText(started),
      /⚠ Could not match GitHub user @mallory-gh \(mallory@evil\.example\) to a Slack user: approvers cannot be checked against them/,
    );
  });

  test('a retry keeps the original pusher and adds the one who retried', async () => {
    const started = await startApp({
      serverConfig: (dir) =>
        serverConfig(dir, 'github:\n  retry: [dave]\n').replace('slack:\n', `slack:\n  people:\n    dave: ${ANN}\n`),
    });
    started.slack.emails.set('carol@example.com', CAROL);
    await started.push(1, 'v1', {
      author: { name: 'Build Bot', email: 'bot@example.com' },
      sender: { login: 'carol', email: 'carol@example.com' },
    });
    await started.click(started.card(), 'reject', CAROL);
    assert.equal((await started.gate(1))?.status, 'failed');

    // Dave re-runs the production check run from GitHub: a new approval.
    const run = started.github.calls.find(
      (c) => c.method === 'POST' && c.body?.name === 'Sluice: production' && c.body.head_sha === sha(1),
    );
    const rerun = {
      action: 'rerequested',
      check_run: {
        id: Number(run?.response?.id),
        name: 'Sluice: production',
        head_sha: sha(1),
        status: 'completed',
        conclusion: 'failure',
        output: { title: 'production', summary: 'Rejected', text: null, annotations_count: 0 },
        app: { id: started.github.appId, slug: 'sluice' },
      },
      requested_action: null,
      repository: { full_name: REPO, default_branch: 'main' },
      installation: { id: 77 },
      sender: { login: 'dave' },
    };
    assert.equal((await started.send('check_run', rerun)).status, 200);
    await started.sluice.idle();
    assert.deepEqual([(await started.gate(1))?.status, (await started.gate(1))?.attempt], ['awaiting_approval', 2]);

    await refused(started, CAROL, 'pushed this change', sha(1));
    await refused(started, ANN, 'retried this run', sha(1));
    assert.equal(productionVersion(started), undefined);
    await started.click(started.card(), 'approve', ALICE);
    assert.equal(productionVersion(started), 'v1');
  });
});
