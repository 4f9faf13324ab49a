/**
 * The service prunes on its own schedule what the retention settings let go
 * (here called at once, with the clock moved on): a handled webhook's payload
 * after a week and its id after a month, a push's downloaded source after a
 * week — and never the release an environment runs.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startGithubSluice } from '../helpers/github-sluice.ts';
import { appFiles } from '../helpers/shop.ts';
import { pushPayload, sha } from '../helpers/github-webhooks.ts';

const DAY = 86_400_000;
const REPO = 'acme/shop';

test('the service prunes handled webhooks and old sources, and keeps the release dev runs', async (t) => {
  let offset = 0;
  const app = await startGithubSluice({ start: { clock: () => Date.now() + offset } });
  t.after(() => app.close());
  app.github.addCommit(REPO, sha(1), appFiles('v1'));
  const payload = pushPayload({ repo: REPO, after: sha(1) });
  assert.equal((await app.send('push', payload, { delivery: 'push-1' })).status, 200);
  await app.sluice.idle();
  const [execution] = await app.sluice.store.listExecutions();
  assert.equal(execution?.status, 'succeeded');
  const sources = join(app.dir, 'data', 'sources');
  const artifacts = join(app.dir, 'data', 'artifacts');
  assert.equal(readdirSync(sources).length, 1);
  const artifactFiles = readdirSync(artifacts);
  assert.equal(artifactFiles.length, 1);

  offset = 8 * DAY;
  assert.deepEqual(await app.sluice.prune(), {
    executions: 0,
    artifacts: 0,
    sources: 1,
    payloads: 1,
    deliveries: 0,
    workspaces: 0,
  });
  assert.ok(app.logs.includes('Sluice pruned 1 source file, 1 webhook payload (retention).'), app.logs.join('\n'));
  assert.equal((await app.sluice.store.getDelivery('push-1'))?.payload, '');
  assert.deepEqual(readdirSync(sources), []);
  // GitHub sending the same delivery again starts nothing: its id is still known.
  assert.equal((await app.send('push', payload, { delivery: 'push-1' })).status, 200);
  await app.sluice.idle();
  assert.equal((await app.sluice.store.listExecutions()).length, 1);

  offset = 31 * DAY;
  assert.deepEqual(await app.sluice.prune(), {
    executions: 0,
    artifacts: 0,
    sources: 0,
    payloads: 0,
    deliveries: 1,
    workspaces: 0,
  });
  assert.equal(await app.sluice.store.getDelivery('push-1'), undefined);
  // What dev runs stays, however old: its execution and its artifact.
  assert.equal((await app.sluice.store.getExecution(execution.id))?.status, 'succeeded');
  assert.deepEqual(readdirSync(artifacts), artifactFiles);
});
