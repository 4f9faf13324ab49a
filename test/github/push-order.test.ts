/**
 * Pushes of one branch delivered out of order, or an old one delivered
 * again after newer ones ran: the newest commit of the branch is the one
 * deployed, and an older push is shown superseded by it, never the other
 * way round (PRODUCT P11, P3).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { githubSluicePerTest, type GithubSluice } from '../helpers/github-sluice.ts';
import { pushPayload, sha } from '../helpers/github-webhooks.ts';
import { appFiles, REPO } from '../helpers/shop.ts';

const startApp = githubSluicePerTest();
let app: GithubSluice | undefined;
const STAGES = ['build', 'dev'];

/** Delivers one push and waits until Sluice has done all it starts. */
async function deliver(payload: ReturnType<typeof pushPayload>, delivery: string): Promise<void> {
  const reply = await app!.send('push', payload, { delivery });
  assert.equal(reply.status, 200, reply.text);
  await app!.sluice.idle();
}

/** What dev runs now: the version its current release started with. */
function devRuns(): string {
  return readFileSync(join(app!.dir, 'srv-dev', 'current', 'started'), 'utf8').trim();
}

/** The check runs of a commit, by name: their conclusion and title. */
function checksOf(commit: string): Record<string, string> {
  const runs = app!.github.checkRuns(REPO).filter((run) => run.head_sha === commit);
  return Object.fromEntries(
    runs.map((run) => [
      String(run.name),
      `${String(run.conclusion)}: ${(run.output as { title?: string } | undefined)?.title ?? ''}`,
    ]),
  );
}

function supersededChecks(by: string): Record<string, string> {
  return Object.fromEntries(
    STAGES.map((stage) => [
      `Sluice: ${stage}`,
      `cancelled: Superseded by ${by.slice(0, 7)}, pushed to main after this commit`,
    ]),
  );
}

test('push 2 delivered before push 1: commit 2 is deployed, and commit 1 is shown superseded by it', async () => {
  app = await startApp();
  app.github.addCommit(REPO, sha(1), appFiles('v1'));
  app.github.addCommit(REPO, sha(2), appFiles('v2'));
  const first = pushPayload({ repo: REPO, after: sha(1) });
  const second = pushPayload({ repo: REPO, before: sha(1), after: sha(2) });

  await deliver(second, 'second');
  await deliver(first, 'first');

  assert.equal(devRuns(), 'v2');
  const store = app.sluice.store;
  const executions = await store.listExecutions();
  assert.deepEqual(executions.map((e) => [e.revision.sha, e.status, e.reason]).reverse(), [
    [sha(2), 'succeeded', undefined],
    [sha(1), 'superseded', `superseded by ${sha(2).slice(0, 7)}, pushed to main after this commit`],
  ]);
  assert.deepEqual(checksOf(sha(1)), supersededChecks(sha(2)));
  assert.deepEqual(
    app.github.deployments(REPO).map((d) => d.sha),
    [sha(2)],
    'only the newest commit was deployed',
  );
  assert.equal(
    app.github.calls.filter((c) => c.path.endsWith(`/tarball/${sha(1)}`)).length,
    0,
    'the older commit was not even fetched',
  );
  assert.equal(
    (await store.getDelivery('first'))?.note,
    `execution #2 superseded by ${sha(2).slice(0, 7)}, pushed to main after this commit`,
  );
});

test("an older push delivered after a newer one, ten seconds earlier by GitHub's pushed_at: the newer stays deployed, the older is shown superseded", async () => {
  app = await startApp();
  app.github.addCommit(REPO, sha(4), appFiles('v1'));
  app.github.addCommit(REPO, sha(5), appFiles('v2'));
  // Neither moved the branch on from the other: only pushed_at orders them.
  const newer = pushPayload({ repo: REPO, before: sha(8), after: sha(5), pushedAt: 2_000_000_010 });
  const older = pushPayload({ repo: REPO, before: sha(9), after: sha(4), pushedAt: 2_000_000_000 });

  await deliver(newer, 'newer');
  await deliver(older, 'older');

  assert.equal(devRuns(), 'v2');
  const store = app.sluice.store;
  assert.deepEqual((await store.listExecutions()).map((e) => [e.revision.sha, e.status]).reverse(), [
    [sha(5), 'succeeded'],
    [sha(4), 'superseded'],
  ]);
  assert.deepEqual(checksOf(sha(4)), supersededChecks(sha(5)));
  assert.equal(
    app.github.calls.filter((c) => c.path.endsWith(`/tarball/${sha(4)}`)).length,
    0,
    'the older commit was not even fetched',
  );
  assert.equal(
    (await store.getDelivery('older'))?.note,
    `execution #2 superseded by ${sha(5).slice(0, 7)}, pushed to main after this commit`,
  );
});

test('three chained pushes in one second, delivered newest first: only the newest runs, by the before chain and the compare', async () => {
  app = await startApp();
  for (const n of [1, 2, 3]) app.github.addCommit(REPO, sha(n), appFiles(`v${n}`));
  // GitHub's pushed_at counts seconds: pushes within one are told apart by their commits.
  const pushedAt = 2_100_000_000;
  const pushes = [1, 2, 3].map((n) =>
    pushPayload({ repo: REPO, ...(n > 1 && { before: sha(n - 1) }), after: sha(n), pushedAt }),
  );

  await deliver(pushes[2]!, 'p3');
  await deliver(pushes[0]!, 'p1');
  await deliver(pushes[1]!, 'p2');

  assert.equal(devRuns(), 'v3');
  const executions = await app.sluice.store.listExecutions();
  assert.deepEqual(executions.map((e) => [e.revision.sha, e.status]).reverse(), [
    [sha(3), 'succeeded'],
    [sha(1), 'superseded'],
    [sha(2), 'superseded'],
  ]);
  assert.deepEqual(checksOf(sha(1)), supersededChecks(sha(3)));
  assert.deepEqual(checksOf(sha(2)), supersededChecks(sha(3)));
});

test('an old push delivered again after a newer one ran changes nothing, under its delivery or a new one', async () => {
  app = await startApp();
  app.github.addCommit(REPO, sha(1), appFiles('v1'));
  app.github.addCommit(REPO, sha(2), appFiles('v2'));
  const first = pushPayload({ repo: REPO, after: sha(1) });
  await deliver(first, 'first');
  await deliver(pushPayload({ repo: REPO, before: sha(1), after: sha(2) }), 'second');
  assert.equal(devRuns(), 'v2');

  // GitHub's *Redeliver* sends the same delivery again.
  await deliver(first, 'first');
  const store = app.sluice.store;
  assert.equal((await store.listExecutions()).length, 2);

  // The same push under a delivery Sluice never saw (one that had failed to reach it, say): its commit ran already,
  // and keeps the check runs it had.
  await deliver(first, 'first-again');
  assert.equal(devRuns(), 'v2');
  assert.deepEqual((await store.listExecutions()).map((e) => [e.revision.sha, e.status]).reverse(), [
    [sha(1), 'succeeded'],
    [sha(2), 'succeeded'],
  ]);
  assert.equal(
    (await store.getDelivery('first-again'))?.note,
    `older than the head of main; ${sha(1).slice(0, 7)} already has execution #1`,
  );
  assert.deepEqual(checksOf(sha(1)), {
    'Sluice: build': 'success: build succeeded',
    'Sluice: dev': 'success: dev succeeded',
  });
  assert.deepEqual(
    app.github.deployments(REPO).map((d) => d.sha),
    [sha(1), sha(2)],
  );
});

test('a force-push back to an older commit delivered before the push it undoes: the older commit stays deployed, the undone one is superseded', async () => {
  app = await startApp();
  app.github.addCommit(REPO, sha(1), appFiles('v1'));
  app.github.addCommit(REPO, sha(2), appFiles('v2'));
  const first = pushPayload({ repo: REPO, after: sha(1) });
  const second = pushPayload({ repo: REPO, before: sha(1), after: sha(2) });
  // `git push -f origin <sha 1>:main`: GitHub records it last, and the branch is back at commit 1.
  const rollback = { ...pushPayload({ repo: REPO, before: sha(2), after: sha(1) }), forced: true };

  await deliver(first, 'first');
  await deliver(rollback, 'rollback');
  await deliver(second, 'second');
  // GitHub's *Redeliver* of the force-push: still nothing new to run.
  await deliver(rollback, 'rollback');

  assert.equal(devRuns(), 'v1', 'the branch is at commit 1, so dev runs it');
  const executions = await app.sluice.store.listExecutions();
  assert.deepEqual(executions.map((e) => [e.revision.sha, e.status, e.reason]).reverse(), [
    [sha(1), 'succeeded', undefined],
    [sha(2), 'superseded', `superseded by ${sha(1).slice(0, 7)}, pushed to main after this commit`],
  ]);
  assert.deepEqual(checksOf(sha(2)), supersededChecks(sha(1)));
  assert.deepEqual(
    app.github.deployments(REPO).map((d) => d.sha),
    [sha(1)],
  );
  assert.equal(
    (await app.sluice.store.getDelivery('rollback'))?.note,
    `${sha(1).slice(0, 7)} pushed to main again; it is the head already`,
  );
});

test('within one second, a push whose order only GitHub’s compare tells is tried again while the compare fails, and then runs', async () => {
  app = await startApp();
  for (const n of [1, 2, 3]) app.github.addCommit(REPO, sha(n), appFiles(`v${n}`));
  const pushedAt = 2_100_000_000;
  // Push 2 never reaches Sluice: push 3's `before` does not name the head, so only the compare orders them.
  await deliver(pushPayload({ repo: REPO, after: sha(1), pushedAt }), 'p1');
  app.github.failNext(/\/compare\//, 2);
  await deliver(pushPayload({ repo: REPO, before: sha(2), after: sha(3), pushedAt }), 'p3');
  await app.github.waitForCall((c) => c.path.includes('/compare/') && c.status === 200);
  await app.sluice.idle();

  assert.equal(devRuns(), 'v3');
  const delivery = await app.sluice.store.getDelivery('p3');
  assert.equal(delivery?.note, 'started execution #2');
  assert.equal(
    app.github.calls.filter((c) => c.path.includes('/compare/') && c.status === 502).length,
    2,
    'GitHub refused the compare twice',
  );
  assert.deepEqual((await app.sluice.store.listExecutions()).map((e) => [e.revision.sha, e.status]).reverse(), [
    [sha(1), 'succeeded'],
    [sha(3), 'succeeded'],
  ]);
});
