/**
 * PRODUCT G1 under a slow database: no delivery is answered 2xx before it
 * is stored. With the inbox's table locked by another session, a delivery
 * is answered 503 before Probot's middleware would say 202 ("still
 * processing"), and GitHub's redelivery is stored and handled once.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { startGithubSluice } from '../helpers/github-sluice.ts';
import { appFiles, pipelineFile } from '../helpers/shop.ts';
import { pushPayload, sha } from '../helpers/github-webhooks.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';

let postgres: TestPostgres;
before(async () => {
  postgres = await startPostgres();
});
after(async () => {
  await postgres?.stop();
});

async function waitFor(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('a delivery that cannot be stored in time is answered 503, not 202, and its redelivery runs once', async () => {
  const app = await startGithubSluice({
    settings: { databaseUrl: postgres.url },
    installed: ['acme/shop', 'acme/site'],
  });
  const holder = new pg.Client({ connectionString: postgres.url });
  await holder.connect();
  try {
    app.github.addCommit('acme/shop', sha(1), appFiles('v1'));
    // The test secret is acme/shop's only.
    app.github.addCommit(
      'acme/site',
      sha(2),
      appFiles(
        'v2',
        pipelineFile(['mkdir -p dist', 'cp VERSION dist/VERSION']).replace('          secrets: [API_TOKEN]\n', ''),
      ),
    );
    const first = pushPayload({ repo: 'acme/shop', after: sha(1) });
    const second = pushPayload({ repo: 'acme/site', after: sha(2) });

    await holder.query('BEGIN');
    await holder.query('LOCK TABLE webhook_deliveries IN ACCESS EXCLUSIVE MODE');
    const firstReply = app.send('push', first, { delivery: 'slow-1' });
    // The first delivery's write waits for the lock; the second waits behind it for its batch.
    await waitFor('a write waiting for the lock', async () => {
      const { rows } = await holder.query(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
      );
      return (rows[0] as { n: number }).n > 0;
    });
    const secondReply = app.send('push', second, { delivery: 'slow-2' });
    for (const reply of [await firstReply, await secondReply]) {
      assert.equal(reply.status, 503, reply.text);
      assert.match(reply.text, /could not store this delivery within 8s .*nothing was acknowledged, so redeliver it/);
    }
    await holder.query('ROLLBACK');

    // The write under way at the deadline goes on; the one still waiting was withdrawn.
    await waitFor(
      'the first delivery to be stored',
      async () => (await app.sluice.store.getDelivery('slow-1')) !== undefined,
    );
    assert.equal(
      await app.sluice.store.getDelivery('slow-2'),
      undefined,
      'a delivery answered 503 before its write began is not stored',
    );

    // GitHub's "Redeliver" sends the same ids again.
    assert.equal((await app.send('push', first, { delivery: 'slow-1' })).status, 200);
    assert.equal((await app.send('push', second, { delivery: 'slow-2' })).status, 200);
    await app.sluice.idle();
    const executions = await app.sluice.store.listExecutions();
    assert.deepEqual(
      executions.map((e) => `${e.repo} ${e.status}`).sort(),
      ['acme/shop succeeded', 'acme/site succeeded'],
      'each push ran once',
    );
  } finally {
    await holder.end().catch(() => {});
    await app.close();
  }
});
