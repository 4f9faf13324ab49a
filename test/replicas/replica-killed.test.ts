/**
 * A replica dies mid-action (`kill -9`), and its peer on the same
 * PostgreSQL notices within the lease bound (PRODUCT R2, S8): the action
 * becomes interrupted, the environment lock it held frees itself, other
 * executions go on. An interrupted build runs again at once (the operator
 * asked for it); an interrupted deploy never re-runs by itself.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { openStore } from '../../src/store/open-store.ts';
import { findActionSummary, findStageSummary, type Store } from '../../src/store/store.ts';
import { GithubStandIn } from '../helpers/github-stand-in.ts';
import { pushPayload, sendWebhook } from '../helpers/github-webhooks.ts';
import { buildOf, pipelineFixture } from '../helpers/pipeline-fixture.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import type { SluiceProcess } from '../helpers/sluice-process.ts';
import { sha } from '../helpers/slack-sluice.ts';
import { until as waitUntil } from '../helpers/until.ts';
import { startSluiceIn } from '../helpers/sluice-in-dir.ts';

const SECRET = 'killed-replica-secret';
/** The lease of the server config below: how long a dead replica's claims and locks hold. */
const LEASE_MS = 2000;
/** The lease, the sweep that looks for it (half the lease) and room for a busy machine. */
const BOUND_MS = LEASE_MS + LEASE_MS / 2 + 3000;

let postgres: TestPostgres;
let github: GithubStandIn;
let store: Store;
let db: pg.Client;
let dir = '';
const replicas: SluiceProcess[] = [];
let pushes = 0;

function files(pipeline: string): Record<string, string> {
  return { '.github/sluice.yml': pipeline, VERSION: 'v1\n' };
}

const deployPipeline = (start: string) =>
  pipelineFixture('version-to-production', (pipeline) => {
    pipeline.app!.hooks.start = [start];
  });

async function startReplica(): Promise<SluiceProcess> {
  const replica = await startSluiceIn(dir, github, SECRET, { DATABASE_URL: postgres.url });
  replicas.push(replica);
  return replica;
}

async function push(repo: string, pipeline: string): Promise<string> {
  const commit = sha(++pushes);
  github.addCommit(repo, commit, files(pipeline));
  const alive = replicas.filter((r) => r.child.exitCode === null && r.child.signalCode === null);
  const reply = await sendWebhook(
    alive[pushes % alive.length]!.url,
    SECRET,
    'push',
    pushPayload({ repo, after: commit }),
  );
  assert.equal(reply.status, 200);
  return commit;
}

const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000) =>
  waitUntil(what, probe, {
    timeoutMs,
    intervalMs: 50,
    explain: () => replicas.map((r) => r.output().slice(-1500)).join('\n---\n'),
  });

const execution = async (commit: string) =>
  (await store.listExecutions({ limit: 100 })).find((e) => e.revision.sha === commit);
const actionOf = async (commit: string, stage: string, action: string) => {
  const e = await execution(commit);
  return e && findActionSummary(e, stage, action);
};

/** The replica whose claim holds this running action. */
async function holderOf(commit: string, stage: string): Promise<SluiceProcess> {
  const owner = await until(`${stage} of ${commit.slice(0, 7)} to be claimed`, async () => {
    const { rows } = await db.query<{ claimed_by: string }>(
      "select a.claimed_by from action_runs a join executions e on e.id = a.execution_id where a.stage = $1 and a.status = 'running' and a.claimed_by is not null and e.revision like $2",
      [stage, `%${commit}%`],
    );
    return rows[0]?.claimed_by;
  });
  const pid = Number(/^sluice-(\d+)-/.exec(owner)?.[1]);
  const replica = replicas.find((r) => r.pid === pid);
  if (!replica) throw new Error(`no replica with pid ${pid} (owner ${owner})`);
  return replica;
}

before(async () => {
  postgres = await startPostgres();
  github = await new GithubStandIn().start();
  github.install(['acme/api', 'acme/shop', 'acme/web']);
  dir = mkdtempSync(join(tmpdir(), 'sluice-killed-'));
  writeFileSync(
    join(dir, 'server.yml'),
    `hosts:\n  local: [local]\nlocal:\n  repos: ['*']\nenvironments:\n  production:\n    hosts: [local]\n    path: ${join(dir, 'srv')}\nrecovery:\n  lease: 2s\n  retry_interrupted_builds: true\n`,
  );
  await startReplica();
  await startReplica();
  store = await openStore({ dataDir: join(dir, 'observer'), databaseUrl: postgres.url });
  db = new pg.Client({ connectionString: postgres.url });
  await db.connect();
});

after(async () => {
  for (const replica of replicas) await replica.stop();
  // What the killed replicas' hooks left sleeping.
  for (const file of ['build.pid', 'deploy.pid']) {
    try {
      process.kill(Number(readFileSync(join(dir, file), 'utf8')), 'SIGKILL');
    } catch {
      // gone already
    }
  }
  await db?.end();
  await store?.close();
  await github?.stop();
  await postgres?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('kill -9 of a replica', { timeout: 120_000 }, () => {
  test('mid-build: the peer marks the build interrupted within the lease bound and runs it again, once', async () => {
    // The first run hangs (and says so); a second run finds the marker and passes.
    const build = `if [ ! -e ${join(dir, 'built-once')} ]; then touch ${join(dir, 'built-once')}; echo $$ > ${join(dir, 'build.pid')}; exec sleep 60; fi`;
    const commit = await push(
      'acme/api',
      pipelineFixture('one-build', (pipeline) => {
        buildOf(pipeline).run = [build];
      }),
    );
    const holder = await holderOf(commit, 'build');
    await until('the build to hang', async () => (existsSync(join(dir, 'build.pid')) ? true : undefined));
    await holder.kill();

    await until(
      'the build to be interrupted and retried',
      async () => ((await actionOf(commit, 'build', 'compile'))?.attempt === 2 ? true : undefined),
      BOUND_MS,
    );
    const done = await until('the retried build to finish', async () => {
      const e = await execution(commit);
      return e && e.status !== 'running' ? e : undefined;
    });
    assert.equal(done.status, 'succeeded');
    const history = await store.listHistory(done.id);
    assert.match(
      history.find((h) => h.to === 'interrupted' && h.entity === 'action')?.reason ?? '',
      /^the Sluice process running it \(sluice-\d+-\w+\) stopped: its claim ran out$/,
    );
    assert.ok(
      history.some((h) => h.entity === 'stage' && h.reason === 'retried by sluice (after an interrupted build)'),
    );
    await startReplica();
  });

  test('mid-deploy: the deploy is interrupted within the lease bound and not re-run, its lock frees, and other deploys go on', async () => {
    const start = `echo started >> ${join(dir, 'starts.log')}; echo $$ > ${join(dir, 'deploy.pid')}; exec sleep 60`;
    const commit = await push('acme/shop', deployPipeline(start));
    const holder = await holderOf(commit, 'deploy');
    await until('the deploy to reach its start hook', async () =>
      existsSync(join(dir, 'deploy.pid')) ? true : undefined,
    );
    assert.ok(await store.findLock('environment:production', Date.now()), 'the deploy holds the environment');
    await holder.kill();

    const interrupted = await until(
      'the deploy to be interrupted',
      async () => {
        const ship = await actionOf(commit, 'deploy', 'ship');
        return ship?.status === 'interrupted' ? ship : undefined;
      },
      BOUND_MS,
    );
    assert.match(interrupted.reason ?? '', /its claim ran out/);
    await until(
      'the environment lock to free itself',
      async () => ((await store.findLock('environment:production', Date.now())) ? undefined : true),
      BOUND_MS,
    );

    // Another repository deploys to the same environment through the surviving replica.
    const other = await push('acme/web', deployPipeline('true'));
    const done = await until('the other deploy', async () => {
      const e = await execution(other);
      return e && e.status !== 'running' ? e : undefined;
    });
    assert.equal(done.status, 'succeeded', done.reason);

    // The interrupted deploy waits for a person: it did not run again.
    const still = await execution(commit);
    assert.equal(still?.status, 'interrupted');
    assert.equal((still && findStageSummary(still, 'deploy'))?.actions[0]?.attempt, 1);
    assert.equal(readFileSync(join(dir, 'starts.log'), 'utf8'), 'started\n');
  });
});
