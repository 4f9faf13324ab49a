/**
 * Two Sluice replicas on one PostgreSQL share the work (PRODUCT R2, S8):
 * 200 pushes over 20 repositories, each sent to one replica or the other.
 * Every action that runs, runs once; no environment ever has two deploys
 * at once (four environments are shared by the twenty repositories, so
 * deploys of different repositories meet at their locks and wait).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startSluice, type RunningSluice } from '../../src/start-sluice.ts';
import { GithubStandIn } from '../helpers/github-stand-in.ts';
import { pushPayload, sendWebhook } from '../helpers/github-webhooks.ts';
import { buildOf, deployOf, pipelineFixture } from '../helpers/pipeline-fixture.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { sha } from '../helpers/slack-sluice.ts';
import { findStageSummary } from '../../src/store/store.ts';

const REPOS = 20;
const PUSHES = 10;
const ENVIRONMENTS = 4;
const SECRET = 'replica-webhook-secret';

let postgres: TestPostgres;
let github: GithubStandIn;
let dir = '';
const replicas: RunningSluice[] = [];

/**
 * Each build writes a line into `log`, which the test reads to count the
 * builds; each repository deploys to an environment of its own.
 */
function pipelineFor(environment: string, log: string): string {
  return pipelineFixture('version-to-production', (pipeline) => {
    Object.assign(buildOf(pipeline), {
      run: [`echo "$(cat VERSION) build" >> ${log}`, 'mkdir -p dist', 'cp VERSION dist/'],
      artifact: { name: 'app', paths: ['dist', 'deploy'] },
    });
    deployOf(pipeline).environment = environment;
    pipeline.app!.hooks.start = ['sh deploy/start.sh'];
  });
}

/** The start hook writes when each deploy begins and ends into its environment's log; two at once would interleave. */
const START = `echo "start $(cat dist/VERSION)" >> "$SLUICE_DEPLOY_PATH/../deploys.log"
sleep 0.05
echo "end $(cat dist/VERSION)" >> "$SLUICE_DEPLOY_PATH/../deploys.log"
`;

before(async () => {
  postgres = await startPostgres();
  github = await new GithubStandIn().start();
  github.install(Array.from({ length: REPOS }, (_, r) => `acme/repo${r}`));
  dir = mkdtempSync(join(tmpdir(), 'sluice-replicas-'));
  const environments = Array.from(
    { length: ENVIRONMENTS },
    (_, e) => `  env${e}:\n    hosts: [local]\n    path: ${join(dir, `env${e}`, 'app')}\n`,
  ).join('');
  writeFileSync(
    join(dir, 'server.yml'),
    `hosts:\n  local: [local]\nlocal:\n  repos: ['*']\nenvironments:\n${environments}`,
  );
  for (let e = 0; e < ENVIRONMENTS; e++) mkdirSync(join(dir, `env${e}`), { recursive: true });
  for (let r = 0; r < REPOS; r++) {
    for (let n = 1; n <= PUSHES; n++) {
      github.addCommit(`acme/repo${r}`, sha(r * 100 + n), {
        '.github/sluice.yml': pipelineFor(`env${r % ENVIRONMENTS}`, join(dir, 'builds.log')),
        VERSION: `repo${r}-${n}\n`,
        'deploy/start.sh': START,
      });
    }
  }
  for (const name of ['a', 'b']) {
    replicas.push(
      await startSluice(
        {
          port: 0,
          // Replicas share the data directory (artifacts, sources) and the database.
          dataDir: join(dir, 'data'),
          databaseUrl: postgres.url,
          serverConfig: join(dir, 'server.yml'),
          publicUrl: 'http://sluice.test',
          github: { appId: github.appId, privateKey: github.privateKey, webhookSecret: SECRET, baseUrl: github.apiUrl },
        },
        {
          host: '127.0.0.1',
          githubPacing: false,
          inboxPollMs: 50,
          inboxRetryMs: 100,
          logIntervalMs: 1000,
          log: (line) => console.error(`replica ${name}: ${line}`),
        },
      ),
    );
  }
});

after(async () => {
  for (const replica of replicas) await replica.close();
  await github?.stop();
  await postgres?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test(
  '200 pushes over 20 repositories to two replicas: every action runs once, and no environment has two deploys at once',
  { timeout: 240_000 },
  async () => {
    const replies = [];
    for (let n = 1; n <= PUSHES; n++) {
      for (let r = 0; r < REPOS; r++) {
        const to = replicas[(r + n) % 2]!;
        const payload = pushPayload({
          repo: `acme/repo${r}`,
          ...(n > 1 && { before: sha(r * 100 + n - 1) }),
          after: sha(r * 100 + n),
        });
        replies.push(sendWebhook(to.url, SECRET, 'push', payload, { delivery: `push-${r}-${n}` }));
      }
    }
    assert.deepEqual(
      (await Promise.all(replies)).map((r) => r.status).filter((s) => s !== 200),
      [],
    );

    // Both replicas keep working until neither has anything left.
    const deadline = Date.now() + 200_000;
    for (;;) {
      await Promise.all(replicas.map((r) => r.idle()));
      const running = (await replicas[0]!.store.listExecutions({ limit: 1000 })).filter((e) => e.status === 'running');
      let handled = 0;
      for (let r = 0; r < REPOS; r++)
        for (let n = 1; n <= PUSHES; n++)
          if ((await replicas[0]!.store.getDelivery(`push-${r}-${n}`))?.status === 'done') handled++;
      if (running.length === 0 && handled === REPOS * PUSHES) break;
      if (Date.now() > deadline)
        throw new Error(`still running: ${running.map((e) => `${e.repo}#${e.seq}`).join(', ')}`);
      await new Promise((done) => setTimeout(done, 200));
    }

    const executions = await replicas[0]!.store.listExecutions({ limit: 1000 });
    assert.equal(executions.length, REPOS * PUSHES, 'one execution per push');
    const ends = new Map<string, number>();
    for (const e of executions) ends.set(e.status, (ends.get(e.status) ?? 0) + 1);
    assert.deepEqual(
      [...ends.keys()].filter((s) => s !== 'succeeded' && s !== 'superseded'),
      [],
      `every execution succeeded or was superseded: ${JSON.stringify([...ends])}`,
    );
    for (let r = 0; r < REPOS; r++) {
      const newest = executions.find((e) => e.repo === `acme/repo${r}` && e.revision.sha === sha(r * 100 + PUSHES));
      assert.equal(newest?.status, 'succeeded', `the newest push of repo${r} went out`);
    }

    // Once: each build that ran wrote one line, and each action started once per attempt.
    const builds = readFileSync(join(dir, 'builds.log'), 'utf8').trim().split('\n');
    assert.equal(new Set(builds).size, builds.length, 'no build ran twice');
    const built = executions.filter((e) => findStageSummary(e, 'build')?.status === 'succeeded');
    assert.equal(builds.length, built.length, 'every build that succeeded ran, once');
    for (const e of executions) {
      const history = await replicas[1]!.store.listHistory(e.id);
      for (const action of e.stages.flatMap((s) => s.actions.map((a) => `${s.name}/${a.name}`))) {
        const starts = history.filter(
          (h) => h.entity === 'action' && `${h.stage}/${h.action}` === action && h.to === 'running',
        );
        assert.ok(starts.length <= 1, `${e.repo}#${e.seq} ${action} started ${starts.length} times`);
      }
    }

    // One at a time: every environment's log is start, end, start, end …
    let deploys = 0;
    for (let env = 0; env < ENVIRONMENTS; env++) {
      const file = join(dir, `env${env}`, 'deploys.log');
      assert.ok(existsSync(file), `env${env} was deployed to`);
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      for (let i = 0; i < lines.length; i += 2) {
        const [start, end] = [lines[i]!, lines[i + 1]];
        assert.match(start, /^start /, `env${env} line ${i + 1}: ${start}`);
        assert.equal(
          end,
          start.replace(/^start/, 'end'),
          `env${env}: a deploy began while ${start.slice(6)} was under way`,
        );
        deploys++;
      }
    }
    assert.equal(deploys, executions.filter((e) => findStageSummary(e, 'deploy')?.status === 'succeeded').length);
  },
);
