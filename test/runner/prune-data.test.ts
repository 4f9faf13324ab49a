/**
 * Disk use stays bounded: 300 executions over two months (made through the
 * store, with real artifact and source files in a real data directory),
 * then a prune with the default retention. What the data directory and the
 * database hold afterwards is exactly what the policy keeps: a month of
 * executions, a week of artifacts and sources, each environment's kept
 * releases (the current one and the rollback target among them), and all
 * that the unfinished executions use.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ArtifactStore } from '../../src/artifact/artifact-store.ts';
import type { ServerConfig } from '../../src/config/server.schema.ts';
import { LocalExecutor } from '../../src/executor/local-executor.ts';
import type { PipelineSnapshot } from '../../src/pipeline/snapshot.ts';
import type { ActionStatus, ExecutionStatus } from '../../src/pipeline/states.ts';
import { successfulDeploys } from '../../src/runner/deploy-history.ts';
import { pruneData } from '../../src/runner/prune-data.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { definitionOf } from '../helpers/pipeline-fixture.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

// Built, shipped to dev, then deployed to production once approved; executions wait in order.
const definition = definitionOf('version-through-dev', (pipeline) => {
  pipeline.mode = 'queued';
});

const server: ServerConfig = {
  environments: {
    dev: { hosts: ['local'], path: '/srv/app', keep_releases: 3 },
    // Asks for one release; the current one and the rollback target are kept all the same.
    production: { hosts: ['local'], path: '/srv/app', keep_releases: 1 },
  },
};

type Outcome = { stages: Record<string, ActionStatus>; status: ExecutionStatus };

/** Sets every action of the execution as given (stages follow their action), in one step at `now`. */
async function settle(
  store: Store,
  pipelineId: string,
  executionId: string,
  outcome: Outcome,
  now: number,
): Promise<void> {
  await store.updatePipeline(
    pipelineId,
    { actor: 'engine', now, include: [executionId] },
    (snapshot: PipelineSnapshot) => {
      const execution = snapshot.executions.find((e) => e.id === executionId)!;
      for (const [stage, status] of Object.entries(outcome.stages)) {
        const stageState = execution.stages[stage]!;
        stageState.status = status === 'awaiting_approval' ? 'running' : (status as typeof stageState.status);
        for (const action of Object.values(stageState.actions)) action.status = status;
      }
      execution.status = outcome.status;
      return {
        snapshot,
        changes: [{ executionId, entity: 'execution', from: 'running', to: outcome.status }],
        commands: [],
      };
    },
  );
}

test('300 executions later the data directory holds what the retention policy keeps, and every environment can still roll back', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-retention-'));
  const store = await openStore({ dataDir });
  t.after(async () => {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const artifacts = new ArtifactStore(join(dataDir, 'artifacts'));
  const sourcesDir = join(dataDir, 'sources');
  mkdirSync(sourcesDir, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), 'sluice-retention-files-'));
  t.after(() => rmSync(scratch, { recursive: true, force: true }));

  const pipelineId = await store.ensurePipeline('acme/web', '.github/sluice.yml');
  const now = Date.now() + 2 * HOUR;
  const start = now - 300 * 5 * HOUR;
  const made: Array<{
    id: string;
    at: number;
    digest?: string;
    source: string;
    running: boolean;
    prod: boolean;
    dev: boolean;
    sha: string;
  }> = [];

  for (let i = 0; i < 300; i++) {
    const at = start + i * 5 * HOUR;
    const sha = `c${String(i).padStart(6, '0')}`;
    const source = join(sourcesDir, `${randomUUID()}.tar.gz`);
    writeFileSync(source, `source of ${sha}`);
    const execution = await store.createExecution(
      {
        pipelineId,
        revision: { sha, ref: 'main', message: `change ${i}`, author: 'alice' },
        definition,
        trigger: 'push',
        source,
      },
      'github',
      at,
    );
    const buildFails = i % 7 === 3;
    let digest: string | undefined;
    if (!buildFails) {
      const file = join(scratch, `${sha}.tar.gz`);
      writeFileSync(file, `artifact of ${sha}`);
      digest = (await artifacts.put(file)).sha256;
      await store.recordArtifact({
        executionId: execution.id,
        name: 'app',
        sha256: digest,
        size: 20,
        stage: 'build',
        action: 'compile',
        createdAt: at + 1,
      });
    }
    // Three are still going: the two newest (one deploying to dev, one waiting for production's
    // approval) and one that has waited for its approval for two months.
    const running = i === 1 || i >= 298;
    // Production took three releases, the newest of them 54 days ago: what it runs is older than a month.
    const prod = [0, 20, 40].includes(i);
    const outcome: Outcome = buildFails
      ? { stages: { build: 'failed' }, status: 'failed' }
      : i === 298
        ? { stages: { build: 'succeeded', dev: 'running' }, status: 'running' }
        : i === 299 || i === 1
          ? { stages: { build: 'succeeded', dev: 'succeeded', production: 'awaiting_approval' }, status: 'running' }
          : {
              stages: { build: 'succeeded', dev: 'succeeded', production: prod ? 'succeeded' : 'cancelled' },
              status: prod ? 'succeeded' : 'cancelled',
            };
    await settle(store, pipelineId, execution.id, outcome, at + HOUR);
    made.push({
      id: execution.id,
      at: at + HOUR,
      ...(digest && { digest }),
      source,
      running,
      prod,
      dev: !buildFails && i !== 298,
      sha,
    });
  }

  // Production was rolled back to the release before its newest, just now: a new execution deploying that old artifact
  // again.
  const prodReleases = made.filter((m) => m.prod).reverse();
  const [newestProd, previousProd] = prodReleases;
  const oldestProd = prodReleases.at(-1);
  const rollback = await store.createExecution(
    {
      pipelineId,
      revision: { sha: previousProd!.sha, ref: 'main', message: 'rollback', author: 'alice' },
      definition: { mode: 'queued', stages: [definition.stages[2]!] },
      trigger: 'rollback of production by alice',
      artifacts: [{ name: 'app', sha256: previousProd!.digest!, size: 20, stage: 'build', action: 'compile' }],
    },
    'slack',
    now - 90 * 60_000,
  );
  await settle(
    store,
    pipelineId,
    rollback.id,
    { stages: { production: 'succeeded' }, status: 'succeeded' },
    now - 90 * 60_000,
  );

  // Workspaces: one a crash left two days ago, one just left, and one a running build has open (however old it looks).
  const workspaces = join(dataDir, 'workspaces');
  mkdirSync(join(workspaces, 'sluice-ws-crashed', 'source'), { recursive: true });
  utimesSync(join(workspaces, 'sluice-ws-crashed'), new Date(now - 2 * DAY), new Date(now - 2 * DAY));
  mkdirSync(join(workspaces, 'sluice-ws-recent'), { recursive: true });
  const session = await new LocalExecutor({ baseDir: workspaces }).open({ name: 'local', address: 'local' });
  t.after(() => session.close());
  utimesSync(session.workspace, new Date(now - 2 * DAY), new Date(now - 2 * DAY));

  // Webhook deliveries handled 40 and 10 days ago and just now, and one still waiting from 40 days ago.
  for (const [id, age] of [
    ['d40', 40],
    ['d10', 10],
    ['d0', 0],
  ] as const) {
    await store.recordDelivery({
      id,
      event: 'push',
      payload: `{"id":"${id}"}`,
      receivedAt: now - age * DAY,
      done: 'handled',
    });
  }
  await store.recordDelivery({ id: 'waiting', event: 'push', payload: '{"id":"waiting"}', receivedAt: now - 40 * DAY });

  const report = await pruneData({ store, server, dataDir, now });

  // Releases each environment keeps: dev its newest 3, production at least 2 distinct revisions.
  const devReleases = made
    .filter((m) => m.dev)
    .reverse()
    .slice(0, 3)
    .map((m) => m.id);
  const prodKept = [rollback.id, newestProd!.id, previousProd!.id];
  const kept = new Set([...devReleases, ...prodKept]);
  const expectedExecutions = new Set([
    ...made.filter((m) => m.running || m.at >= now - 30 * DAY || kept.has(m.id)).map((m) => m.id),
    rollback.id,
  ]);
  const left = await store.listExecutions({ limit: 1000 });
  assert.deepEqual(new Set(left.map((e) => e.id)), expectedExecutions);
  assert.ok(left.length < 160, `${left.length} executions left`);
  assert.equal(
    await store.getExecution(oldestProd!.id),
    undefined,
    'a production release older than the kept ones goes once it is a month old',
  );
  assert.ok(await store.getExecution(made[1]!.id), 'an execution waiting for approval stays, however old');

  const recentOrKept = (m: (typeof made)[number]) => m.running || m.at >= now - 7 * DAY || kept.has(m.id);
  const expectedDigests = new Set(made.filter((m) => m.digest && recentOrKept(m)).map((m) => `${m.digest}.tar.gz`));
  assert.deepEqual(new Set(readdirSync(join(dataDir, 'artifacts'))), expectedDigests);
  const expectedSources = new Set(
    made.filter((m) => m.running || m.at >= now - 7 * DAY).map((m) => m.source.slice(sourcesDir.length + 1)),
  );
  assert.deepEqual(new Set(readdirSync(sourcesDir)), expectedSources);
  assert.deepEqual(readdirSync(workspaces).sort(), [session.workspace.split('/').pop(), 'sluice-ws-recent'].sort());

  assert.equal(await store.getDelivery('d40'), undefined);
  assert.equal(
    (await store.getDelivery('d10'))?.payload,
    '',
    'the payload goes after a week, the id stays for de-duplication',
  );
  assert.equal((await store.getDelivery('d0'))?.payload, '{"id":"d0"}');
  assert.equal((await store.getDelivery('waiting'))?.payload, '{"id":"waiting"}');

  assert.deepEqual(report, {
    executions: 300 - (expectedExecutions.size - 1),
    artifacts: made.filter((m) => m.digest).length - expectedDigests.size,
    sources: 300 - expectedSources.size,
    payloads: 1,
    deliveries: 1,
    workspaces: 1,
  });

  // Every environment can roll back: its current release and the one before, with their artifacts intact.
  for (const environment of ['dev', 'production']) {
    const deploys = await successfulDeploys(store, pipelineId, environment);
    const current = deploys[0]!;
    const target = deploys.find((d) => d.execution.revision.sha !== current.execution.revision.sha)!;
    for (const release of [current, target]) {
      const artifact = await store.findArtifact(release.execution.id, release.artifact);
      assert.ok(
        artifact && (await artifacts.verify(artifact.sha256)),
        `${environment}: the artifact of #${release.execution.seq} is there`,
      );
    }
  }
  assert.equal(
    (await successfulDeploys(store, pipelineId, 'production'))[1]?.execution.id,
    newestProd!.id,
    'production rolls back to its newest release',
  );

  // A second prune finds nothing more to do.
  assert.deepEqual(await pruneData({ store, server, dataDir, now }), {
    executions: 0,
    artifacts: 0,
    sources: 0,
    payloads: 0,
    deliveries: 0,
    workspaces: 0,
  });
});
