/**
 * Two Sluice processes on one PostgreSQL, and every push delivered to both
 * (GitHub redelivers, a load balancer retries): each commit gets one check
 * run per stage, each deploy one Deployment, each approval gate one Slack
 * card, whichever replica reports (PRODUCT R2, G2, G4, K1).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { GithubStandIn } from '../helpers/github-stand-in.ts';
import { pushPayload, sendWebhook } from '../helpers/github-webhooks.ts';
import { freeLoopbackPort } from '../helpers/haproxy.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { SIGNING_SECRET } from '../helpers/slack-requests.ts';
import { CHANNEL, sha } from '../helpers/slack-sluice.ts';
import { BOT_TOKEN, SlackStandIn } from '../helpers/slack-stand-in.ts';
import { githubAppEnv, startSluiceProcess, type SluiceProcess } from '../helpers/sluice-process.ts';
import { until as waitUntil } from '../helpers/until.ts';
import { pipelineFixture } from '../helpers/pipeline-fixture.ts';

const SECRET = 'reports-once-secret';
const PUSHES = 10;
const STAGES = ['build', 'dev', 'production'];

const PIPELINE = pipelineFixture('version-through-dev');

let postgres: TestPostgres;
let github: GithubStandIn;
let slack: SlackStandIn;
let store: Store;
let dir = '';
let replicas: SluiceProcess[] = [];

const until = <T>(what: string, probe: () => Promise<T | undefined> | T | undefined) =>
  waitUntil(what, probe, {
    timeoutMs: 120_000,
    explain: async () =>
      `${(await store.listExecutions({ limit: 100 })).map((e) => `${e.repo}#${e.seq} ${e.status} ${e.stages.map((st) => `${st.name}:${st.status}`).join(' ')}`).join('\n')}\n${replicas.map((r) => r.output().slice(-1500)).join('\n---\n')}`,
  });

/** Two replicas on the test's database; a test stops them to have everything they had to report sent. */
async function startReplicas(): Promise<void> {
  const started: SluiceProcess[] = [];
  for (let r = 0; r < 2; r++) {
    started.push(
      await startSluiceProcess({
        cwd: dir,
        port: await freeLoopbackPort(),
        env: {
          DATABASE_URL: postgres.url,
          // Shared, as the replicas' artifacts still live in the data directory.
          SLUICE_DATA_DIR: join(dir, 'data'),
          SLUICE_CONFIG: join(dir, 'server.yml'),
          SLACK_BOT_TOKEN: BOT_TOKEN,
          SLACK_SIGNING_SECRET: SIGNING_SECRET,
          SLACK_API_URL: slack.apiUrl,
          ...githubAppEnv(github, SECRET),
        },
      }),
    );
  }
  replicas = started;
}

before(async () => {
  postgres = await startPostgres();
  github = await new GithubStandIn().start();
  slack = await new SlackStandIn().start();
  slack.invite(CHANNEL);
  slack.join(CHANNEL, ['U0ANN']);
  dir = mkdtempSync(join(tmpdir(), 'sluice-reports-once-'));
  writeFileSync(
    join(dir, 'server.yml'),
    `hosts:\n  local: [local]\nlocal:\n  repos: ['*']\nenvironments:\n  dev:\n    hosts: [local]\n    path: ${join(dir, 'srv-dev')}\n  production:\n    hosts: [local]\n    path: ${join(dir, 'srv-prod')}\n    approval:\n      slack_channel: ${CHANNEL}\n      approvers: [U0ANN]\n      timeout: 24h\n`,
  );
  store = await openStore({ dataDir: join(dir, 'observer'), databaseUrl: postgres.url });
});

after(async () => {
  for (const replica of replicas) await replica.stop();
  await store?.close();
  await slack?.stop();
  await github?.stop();
  await postgres?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test(
  'ten pushes, each delivered to both replicas: one check run per stage per commit, one Deployment per deploy, one card per gate',
  { timeout: 300_000 },
  async () => {
    await startReplicas();
    const repos = Array.from({ length: PUSHES }, (_, n) => `acme/app${n}`);
    github.install(repos);
    for (const [n, repo] of repos.entries())
      github.addCommit(repo, sha(n + 1), { '.github/sluice.yml': PIPELINE, VERSION: `v${n}\n` });
    const replies = await Promise.all(
      repos.flatMap((repo, n) =>
        replicas.map((replica) =>
          sendWebhook(replica.url, SECRET, 'push', pushPayload({ repo, after: sha(n + 1) }), { delivery: `push-${n}` }),
        ),
      ),
    );
    assert.deepEqual(
      replies.map((r) => r.status).filter((s) => s !== 200),
      [],
    );

    // Every execution deploys to dev and stops at its gate; both replicas report what they see on the way.
    await until('every execution at its gate, its card posted and its dev deploy reported', async () => {
      const executions = await store.listExecutions({ limit: 100 });
      const atGate = executions.filter(
        (e) =>
          e.stages.find((s) => s.name === 'production')?.actions.find((a) => a.name === 'approve')?.status ===
          'awaiting_approval',
      );
      const deployed = github.deployments().filter((d) => d.statuses.at(-1)?.state === 'success');
      return atGate.length === PUSHES && slack.cards(CHANNEL).length >= PUSHES && deployed.length >= PUSHES
        ? true
        : undefined;
    });
    // A clean stop sends what each replica still has to report before it exits.
    for (const replica of replicas) await replica.stop();

    const executions = await store.listExecutions({ limit: 100 });
    assert.equal(executions.length, PUSHES, 'one execution per push');
    const runs = github.checkRuns().map((run) => `${String(run.head_sha).slice(0, 7)} ${String(run.name)}`);
    const expected = executions.flatMap((e) => STAGES.map((stage) => `${e.revision.sha.slice(0, 7)} Sluice: ${stage}`));
    assert.deepEqual(runs.sort(), expected.sort(), 'one check run per stage per commit');
    assert.deepEqual(
      github
        .deployments()
        .map((d) => `${d.repo} ${d.environment}`)
        .sort(),
      // The production Deployment is made, queued, when its stage starts at the gate.
      repos.flatMap((repo) => [`${repo} dev`, `${repo} production`]).sort(),
      'one Deployment per deploy',
    );
    assert.equal(slack.cards(CHANNEL).length, PUSHES, 'one card per gate');
  },
);
