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
import { findActionSummary, type Store } from '../../src/store/store.ts';
import { GithubStandIn } from '../helpers/github-stand-in.ts';
import { pushPayload, sendWebhook } from '../helpers/github-webhooks.ts';
import { freeLoopbackPort } from '../helpers/free-port.ts';
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

/** Where each execution stands, and why and with what log each failed action failed. */
async function explainExecutions(): Promise<string> {
  const lines: string[] = [];
  for (const e of await store.listExecutions({ limit: 100 })) {
    lines.push(`${e.repo}#${e.seq} ${e.status} ${e.stages.map((st) => `${st.name}:${st.status}`).join(' ')}`);
    for (const stage of e.stages)
      for (const action of stage.actions.filter((a) => a.status === 'failed')) {
        const ref = { executionId: e.id, stage: stage.name, action: action.name, attempt: action.attempt };
        const log = (await store.readLogTail(ref, 2000)).map((line) => `    ${line.stream}: ${line.text}`);
        lines.push(`  ${stage.name}/${action.name} failed: ${action.reason ?? ''}`, ...log);
      }
  }
  return lines.join('\n');
}

const until = <T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 120_000) =>
  waitUntil(what, probe, {
    timeoutMs,
    explain: async () =>
      `${await explainExecutions()}\n${replicas.map((r) => r.output().slice(-1500)).join('\n---\n')}`,
  });

/** Two replicas on the test's database; a test stops them to have everything they had to report sent. */
async function startReplicas(): Promise<void> {
  // Those of a test that failed before it stopped them would go on stepping, reporting and holding the event loop.
  for (const replica of replicas) await replica.stop();
  replicas = [];
  for (let r = 0; r < 2; r++) {
    replicas.push(
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
  { timeout: 400_000 },
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
    await until(
      'every execution at its gate, its card posted and its dev deploy reported',
      async () => {
        const executions = await store.listExecutions({ limit: 100 });
        // None of them has a reason to fail: one that does is the answer, not a wait for the time-out.
        if (executions.some((e) => e.status === 'failed'))
          throw new Error(`an execution failed:\n${await explainExecutions()}`);
        const atGate = executions.filter(
          (e) => findActionSummary(e, 'production', 'approve')?.status === 'awaiting_approval',
        );
        const deployed = github.deployments().filter((d) => d.statuses.at(-1)?.state === 'success');
        return atGate.length === PUSHES && slack.cards(CHANNEL).length >= PUSHES && deployed.length >= PUSHES
          ? true
          : undefined;
        // Each replica writes to GitHub a second apart, and ten commits make some 130 writes: a minute or more.
      },
      300_000,
    );
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

test(
  'ten pushes to one branch, each delivered to both replicas as they step the same pipeline: no check run, Deployment or card twice',
  { timeout: 400_000 },
  async () => {
    await startReplicas();
    const cardsBefore = slack.cards(CHANNEL).length;
    const repo = 'acme/shop';
    github.install(repo);
    const shas = Array.from({ length: PUSHES }, (_, n) => sha(1000 + n));
    for (const [n, commit] of shas.entries())
      github.addCommit(repo, commit, { '.github/sluice.yml': PIPELINE, VERSION: `v${n}\n` });
    for (const [n, commit] of shas.entries()) {
      const payload = pushPayload({ repo, ...(n > 0 && { before: shas[n - 1] }), after: commit });
      const replies = await Promise.all(
        replicas.map((replica) => sendWebhook(replica.url, SECRET, 'push', payload, { delivery: `shop-${n}` })),
      );
      assert.deepEqual(
        replies.map((r) => r.status),
        [200, 200],
      );
    }

    // Newer pushes supersede older ones; the newest ends at its gate, the others finished.
    const ours = async () => (await store.listExecutions({ limit: 100 })).filter((e) => e.repo === repo);
    await until(
      'the newest push at its gate and every other execution finished',
      async () => {
        for (let n = 0; n < PUSHES; n++)
          if ((await store.getDelivery(`shop-${n}`))?.status !== 'done') return undefined;
        const running = (await ours()).filter((e) => e.status === 'running');
        const gate = running[0] && findActionSummary(running[0], 'production', 'approve');
        return running.length === 1 && running[0]!.revision.sha === shas.at(-1) && gate?.status === 'awaiting_approval'
          ? true
          : undefined;
      },
      240_000,
    );
    for (const replica of replicas) await replica.stop();

    const runs = github.checkRuns(repo).map((run) => `${String(run.head_sha).slice(0, 7)} ${String(run.name)}`);
    assert.deepEqual(
      runs.filter((run, i) => runs.indexOf(run) !== i),
      [],
      'no stage of a commit has two check runs',
    );
    const deployments = github.deployments(repo).map((d) => `${d.sha.slice(0, 7)} ${d.environment}`);
    assert.deepEqual(
      deployments.filter((d, i) => deployments.indexOf(d) !== i),
      [],
      'no deploy has two Deployments',
    );
    let gates = 0;
    for (const e of await ours()) {
      const history = await store.listHistory(e.id);
      if (history.some((h) => h.action === 'approve' && h.to === 'awaiting_approval')) gates++;
    }
    const cards = slack.cards(CHANNEL).length - cardsBefore;
    assert.equal(cards, gates, 'one card per gate that opened');
  },
);

test(
  'pushes of one branch delivered out of order to both replicas, and an old one again after a newer ran: the newest commit runs, the older ones are shown superseded',
  { timeout: 300_000 },
  async () => {
    await startReplicas();
    const repo = 'acme/order';
    github.install(repo);
    const shas = [1, 2, 3].map((n) => sha(2000 + n));
    for (const [n, commit] of shas.entries())
      github.addCommit(repo, commit, { '.github/sluice.yml': PIPELINE, VERSION: `v${n + 1}\n` });
    const payloads = shas.map((commit, n) =>
      pushPayload({ repo, ...(n > 0 && { before: shas[n - 1] }), after: commit }),
    );
    const deliver = async (n: number, delivery: string) => {
      const replies = await Promise.all(
        replicas.map((replica) => sendWebhook(replica.url, SECRET, 'push', payloads[n], { delivery })),
      );
      assert.deepEqual(
        replies.map((r) => r.status),
        [200, 200],
      );
    };
    const handled = async (deliveries: string[]) => {
      for (const delivery of deliveries) if ((await store.getDelivery(delivery))?.status !== 'done') return false;
      return true;
    };
    const ours = async () => (await store.listExecutions({ limit: 100 })).filter((e) => e.repo === repo);
    const atGate = async () => {
      const running = (await ours()).filter((e) => e.status === 'running');
      const gate = running[0] && findActionSummary(running[0], 'production', 'approve');
      return running.length === 1 && gate?.status === 'awaiting_approval' ? running[0]!.revision.sha : undefined;
    };

    // Push 2 reaches both replicas, and is handled, before push 1; push 3 comes last.
    await deliver(1, 'order-2');
    await until('push 2 handled', async () => ((await handled(['order-2'])) ? true : undefined));
    await deliver(0, 'order-1');
    await until('push 1 handled', async () => ((await handled(['order-1'])) ? true : undefined));
    await deliver(2, 'order-3');
    await until(
      'push 3 at its gate',
      async () => ((await handled(['order-3'])) && (await atGate()) === shas[2] ? true : undefined),
      240_000,
    );
    // Push 1 again, under a delivery neither replica saw, after push 3 ran to its gate.
    await deliver(0, 'order-1-again');
    await until('the old push handled', async () => ((await handled(['order-1-again'])) ? true : undefined));
    // GitHub learns it at the pace Sluice writes to it (a second apart): what the test checks is awaited there.
    await until(
      'GitHub showing the newest commit on dev, at its gate, and the oldest push superseded',
      () => {
        const on = (commit: string, environment: string) =>
          github.deployments(repo).find((d) => d.sha === commit && d.environment === environment);
        const oldest = github.checkRuns(repo).filter((run) => run.head_sha === shas[0]);
        return on(shas[2]!, 'dev')?.statuses.at(-1)?.state === 'success' &&
          on(shas[2]!, 'production') !== undefined &&
          oldest.length === STAGES.length &&
          oldest.every((run) => run.status === 'completed')
          ? true
          : undefined;
      },
      120_000,
    );
    for (const replica of replicas) await replica.stop();

    const executions = (await ours()).reverse();
    assert.deepEqual(
      executions.map((e) => [e.revision.sha, e.status]),
      [
        [shas[1], 'superseded'],
        [shas[0], 'superseded'],
        [shas[2], 'running'],
      ],
      'one execution per commit; the newest runs',
    );
    const older = `superseded by ${shas[1]!.slice(0, 7)}, pushed to main after this commit`;
    assert.equal(executions[1]?.reason, older);
    const runs = github.checkRuns(repo);
    const checks = (commit: string) =>
      runs
        .filter((run) => run.head_sha === commit)
        .map((run) => `${String(run.name)} ${String(run.conclusion)}: ${(run.output as { title: string }).title}`);
    assert.deepEqual(
      checks(shas[0]!),
      STAGES.map((stage) => `Sluice: ${stage} cancelled: S${older.slice(1)}`),
      'the oldest push shows why it never ran, once per stage',
    );
    const deployments = github.deployments(repo);
    const deployed = deployments.map((d) => `${d.sha.slice(0, 7)} ${d.environment}`);
    assert.deepEqual(
      deployed.filter((d, i) => deployed.indexOf(d) !== i),
      [],
      'no deploy has two Deployments',
    );
    assert.equal(deployments.filter((d) => d.sha === shas[0]).length, 0, 'the oldest push deployed nothing');
    assert.equal(
      deployments.find((d) => d.sha === shas[2] && d.environment === 'dev')?.statuses.at(-1)?.state,
      'success',
      'the newest commit is the one on dev',
    );
    // Push 2 may have reached dev before push 3 took its place: its Deployment then ends replaced, whatever
    // order the two successes were reported in.
    const before = deployments.find((d) => d.sha === shas[1] && d.environment === 'dev');
    if (before?.statuses.some((st) => st.state === 'success'))
      assert.equal(before.statuses.at(-1)?.state, 'inactive', 'the older deploy to dev is no longer the active one');
  },
);
