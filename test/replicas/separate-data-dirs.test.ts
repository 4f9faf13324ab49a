/**
 * Two replicas on one PostgreSQL, each with a data directory of its own
 * and no filesystem in common (PRODUCT R2): one builds, its first deploy
 * fails, the builder is killed and the survivor's data directory emptied,
 * and a re-run through the survivor deploys the built artifact to a real
 * SSH host, fetched from the database and verified on the way.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openStore } from '../../src/store/open-store.ts';
import { findStageSummary, type Store } from '../../src/store/store.ts';
import { GithubStandIn } from '../helpers/github-stand-in.ts';
import { pushPayload, sendWebhook, sha } from '../helpers/github-webhooks.ts';
import { freeLoopbackPort } from '../helpers/free-port.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { githubAppEnv, startSluiceProcess, type SluiceProcess } from '../helpers/sluice-process.ts';
import { startSshHosts, type SshHosts } from '../helpers/ssh-hosts.ts';
import { until as waitUntil } from '../helpers/until.ts';
import { pipelineFixture } from '../helpers/pipeline-fixture.ts';
import { oneHostConfig } from '../helpers/sluice-in-dir.ts';

const SECRET = 'separate-dirs-secret';
const REPO = 'acme/shop';

let postgres: TestPostgres;
let github: GithubStandIn;
let ssh: SshHosts;
let store: Store;
let dir = '';
const replicas: Array<{ process: SluiceProcess; dataDir: string }> = [];

const PIPELINE = pipelineFixture('payload-to-production');

const until = <T>(what: string, probe: () => Promise<T | undefined> | T | undefined) =>
  waitUntil(what, probe, {
    intervalMs: 50,
    explain: () => replicas.map((r) => r.process.output().slice(-2000)).join('\n---\n'),
  });

before(async () => {
  postgres = await startPostgres();
  github = await new GithubStandIn().start();
  ssh = await startSshHosts(1);
  dir = mkdtempSync(join(tmpdir(), 'sluice-separate-'));
  writeFileSync(join(dir, 'server.yml'), oneHostConfig(ssh, 'production'));
  mkdirSync(join(ssh.hosts[0]!.root, 'srv', 'shared'), { recursive: true });
  for (const name of ['a', 'b']) {
    const dataDir = join(dir, `data-${name}`);
    const replica = await startSluiceProcess({
      cwd: dir,
      port: await freeLoopbackPort(),
      env: {
        DATABASE_URL: postgres.url,
        SLUICE_DATA_DIR: dataDir,
        SLUICE_CONFIG: join(dir, 'server.yml'),
        ...githubAppEnv(github, SECRET),
      },
    });
    replicas.push({ process: replica, dataDir });
  }
  store = await openStore({ dataDir: join(dir, 'observer'), databaseUrl: postgres.url });
});

after(async () => {
  for (const replica of replicas) await replica.process.stop();
  await store?.close();
  await ssh?.stop();
  await github?.stop();
  await postgres?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test(
  'a replica deploys what another built, from the database, with a verified digest, after the builder died and its own cache was deleted',
  { timeout: 180_000 },
  async () => {
    const commit = sha(1);
    github.install(REPO);
    github.addCommit(REPO, commit, { '.github/sluice.yml': PIPELINE, VERSION: 'v1\n' });
    const reply = await sendWebhook(
      replicas[0]!.process.url,
      SECRET,
      'push',
      pushPayload({ repo: REPO, after: commit }),
    );
    assert.equal(reply.status, 200);

    const failed = await until('the first deploy to fail', async () => {
      const e = (await store.listExecutions()).find((x) => x.revision.sha === commit);
      return e && e.status !== 'running' ? e : undefined;
    });
    assert.equal(failed.status, 'failed', failed.reason);
    assert.equal(findStageSummary(failed, 'build')?.status, 'succeeded');
    const artifact = (await store.findArtifact(failed.id, 'app'))!;
    // Reported a second after the replica's last write to GitHub, maybe after the execution failed: waited for
    // while both replicas live, as the one that reports it may be the one killed next.
    const run = await until('the deploy stage has a check run', () =>
      github.calls.find(
        (c) => c.method === 'POST' && c.path.endsWith('/check-runs') && c.body?.name === 'Sluice: production',
      ),
    );

    // The builder is the replica whose cache holds the artifact; it dies with its data directory.
    const cached = (r: (typeof replicas)[number]) =>
      existsSync(join(r.dataDir, 'artifacts', `${artifact.sha256}.tar.gz`));
    const builder = replicas.find(cached);
    assert.ok(builder, 'the builder kept the artifact in its cache');
    const survivor = replicas.find((r) => r !== builder)!;
    await builder.process.kill();
    rmSync(builder.dataDir, { recursive: true, force: true });
    // The survivor's cache is only a cache: deleting it loses nothing.
    rmSync(join(survivor.dataDir, 'artifacts'), { recursive: true, force: true });
    rmSync(join(survivor.dataDir, 'sources'), { recursive: true, force: true });

    writeFileSync(join(ssh.hosts[0]!.root, 'srv', 'shared', 'go'), '');
    const rerun = await sendWebhook(survivor.process.url, SECRET, 'check_run', {
      action: 'rerequested',
      check_run: {
        id: Number(run.response?.id),
        name: 'Sluice: production',
        head_sha: commit,
        status: 'completed',
        conclusion: 'failure',
        output: { title: 'Production', summary: 'The deploy log', text: null, annotations_count: 0 },
        app: { id: github.appId, slug: 'sluice' },
      },
      requested_action: null,
      repository: { full_name: REPO, default_branch: 'main' },
      installation: { id: 77 },
      sender: { login: 'bob' },
    });
    assert.equal(rerun.status, 200);

    const done = await until('the re-run deploy', async () => {
      const e = await store.getExecution(failed.id);
      const stage = e && findStageSummary(e, 'production');
      return e && stage && stage.attempt === 2 && e.status !== 'running' ? e : undefined;
    });
    assert.equal(done.status, 'succeeded', done.reason);

    // The survivor fetched the artifact into its cache, under the digest the build recorded, bytes and all.
    const fetched = join(survivor.dataDir, 'artifacts', `${artifact.sha256}.tar.gz`);
    assert.equal(createHash('sha256').update(readFileSync(fetched)).digest('hex'), artifact.sha256);
    const current = join(ssh.hosts[0]!.root, 'srv', 'current', 'dist');
    assert.equal(readFileSync(join(current, 'VERSION'), 'utf8'), 'v1\n');
    const payload = readFileSync(join(current, 'payload'));
    assert.equal(payload.length, 3_000_000);
    assert.equal(
      readFileSync(join(current, 'payload.sha256'), 'utf8').split(' ')[0],
      createHash('sha256').update(payload).digest('hex'),
      'the host runs the bytes that were built',
    );
  },
);
