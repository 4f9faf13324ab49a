import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { githubSluicePerTest } from '../helpers/github-sluice.ts';
import { appFiles, pipelineFile, REPO } from '../helpers/shop.ts';
import { pushPayload, sendWebhook, sha } from '../helpers/github-webhooks.ts';

const startApp = githubSluicePerTest();

async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the webhook inbox', () => {
  test('the same delivery sent 3 times at once starts one execution', async () => {
    const app = await startApp();
    app.github.addCommit(REPO, sha(1), appFiles('v1'));
    const payload = pushPayload({ repo: REPO, after: sha(1) });
    const replies = await Promise.all([1, 2, 3].map(() => app!.send('push', payload, { delivery: 'delivery-1' })));
    assert.deepEqual(
      replies.map((r) => r.status),
      [200, 200, 200],
    );
    await app.sluice.idle();
    const executions = await app.sluice.store.listExecutions();
    assert.equal(executions.length, 1);
    assert.equal(executions[0]?.status, 'succeeded');
    assert.equal(app.github.calls.filter((c) => c.path.endsWith('/tarball/' + sha(1))).length, 1);
  });

  test('a webhook with a tampered signature is refused and nothing is stored', async () => {
    const app = await startApp();
    app.github.addCommit(REPO, sha(2), appFiles('v1'));
    const reply = await app.sendPush({ after: sha(2) }, { delivery: 'tampered', tamper: true });
    assert.ok(reply.status >= 400 && reply.status < 500, `status ${reply.status}`);
    assert.match(reply.text, /signature does not match/);
    const wrongSecret = await sendWebhook(
      app.sluice.url,
      'not-the-secret',
      'push',
      pushPayload({ repo: REPO, after: sha(2) }),
      { delivery: 'wrong-secret' },
    );
    assert.ok(wrongSecret.status >= 400 && wrongSecret.status < 500);
    await app.sluice.idle();
    assert.equal(await app.sluice.store.getDelivery('tampered'), undefined);
    assert.equal(await app.sluice.store.getDelivery('wrong-secret'), undefined);
    assert.deepEqual(await app.sluice.store.listExecutions(), []);
    assert.deepEqual(app.github.calls, []);
  });

  test('the reply does not wait for the build; a newer push supersedes the one waiting, and its check runs say by which commit', async () => {
    const app = await startApp();
    const gate = join(app.dir, 'gate');
    const slow = pipelineFile([
      `while [ ! -f ${gate} ]; do sleep 0.05; done`,
      'mkdir -p dist',
      'cp VERSION dist/VERSION',
    ]);
    for (const n of [1, 2, 3]) app.github.addCommit(REPO, sha(n), appFiles(`v${n}`, slow));

    const first = await app.sendPush({ after: sha(1) });
    assert.equal(first.status, 200);
    const store = app.sluice.store;
    await waitFor(
      'the first build to run',
      async () => (await store.listExecutions())[0]?.stages[0]?.status === 'running',
    );
    // The reply came while the build still waits at its gate: processing is not part of the request.
    assert.equal(existsSync(gate), false);

    await app.sendPush({ before: sha(1), after: sha(2) });
    await app.sendPush({ before: sha(2), after: sha(3) });
    await waitFor('three executions', async () => (await store.listExecutions()).length === 3);
    await waitFor('#2 to be superseded', async () => (await store.getExecution(2))?.status === 'superseded');
    writeFileSync(gate, '');
    await app.sluice.idle();

    const bySeq = async (seq: number) => (await store.getExecution(seq))?.status;
    assert.deepEqual([await bySeq(1), await bySeq(2), await bySeq(3)], ['succeeded', 'superseded', 'succeeded']);
    const checks = app.github.calls.filter((c) => c.path.includes('/check-runs'));
    const running = checks.find((c) => c.body?.name === 'Sluice: build' && c.body.status === 'in_progress');
    assert.ok(running, 'the first build was reported in progress while it ran');
    const superseded = checks.filter(
      (c) => String(c.body?.external_id ?? '').length > 0 && c.body?.conclusion === 'cancelled',
    );
    const titles = superseded.map((c) => (c.body?.output as { title: string }).title);
    assert.ok(titles.length >= 1, 'the superseded execution’s check runs were completed');
    for (const title of titles) assert.equal(title, `Superseded by execution #3 (${sha(3).slice(0, 7)})`);
    const sha2Runs = checks
      .filter((c) => c.method === 'POST' && c.body?.head_sha === sha(2))
      .map((c) => c.response?.id);
    assert.equal(sha2Runs.length, 2);
    for (const id of sha2Runs) assert.equal(app.github.checkRun(Number(id))?.conclusion, 'cancelled');
  });
});

describe('when GitHub fails', () => {
  test('a delivery whose handling fails is tried again later, and the push still runs', async () => {
    const app = await startApp();
    app.github.addCommit(REPO, sha(6), appFiles('v1'));
    app.github.failNext(/\/contents\//, 2);
    await app.sendPush(
      { after: sha(6) },
      {
        delivery: 'flaky',
      },
    );
    const store = app.sluice.store;
    await waitFor('the delivery to be handled', async () => (await store.getDelivery('flaky'))?.status === 'done');
    await app.sluice.idle();
    assert.equal((await store.getDelivery('flaky'))?.attempts, 3);
    assert.equal((await store.listExecutions())[0]?.status, 'succeeded');
    assert.ok(
      app.logs.some((line) => /could not handle push delivery flaky: Server Error/.test(line)),
      app.logs.join('\n'),
    );
  });
});
