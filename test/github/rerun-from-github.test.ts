import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { RecordedCall } from '../helpers/github-stand-in.ts';
import { type GithubSluice, githubSluicePerTest } from '../helpers/github-sluice.ts';
import { appFiles, pipelineFile, REPO, shopFiles, shopServerConfig } from '../helpers/shop.ts';
import { checkRunPayload, sha } from '../helpers/github-webhooks.ts';
import { findStageSummary } from '../../src/store/store.ts';

const startApp = githubSluicePerTest();

/** A check_run event with what GitHub sends of the run: its conclusion and output as they are. */
function checkRunEvent(
  action: string,
  id: number,
  appId: number,
  identifier?: string,
  run: { status?: string; conclusion?: string | null; summary?: string | null } = {},
) {
  return checkRunPayload({
    action,
    id,
    appId,
    name: 'Sluice: build',
    headSha: sha(1),
    repo: REPO,
    ...(run.status && { status: run.status }),
    conclusion: run.conclusion === undefined ? 'failure' : run.conclusion,
    output: { title: 'Build', summary: run.summary === undefined ? 'The build log' : run.summary },
    ...(identifier && { requestedAction: identifier }),
    sender: 'bob',
  });
}

function checkSuiteEvent(action: string, appId: number, headSha = sha(1)) {
  return {
    action,
    check_suite: {
      id: 5150,
      head_branch: 'main',
      head_sha: headSha,
      status: 'queued',
      conclusion: null,
      before: sha(0),
      after: headSha,
      app: { id: appId, slug: 'sluice' },
    },
    repository: { full_name: REPO, default_branch: 'main' },
    installation: { id: 77 },
    sender: { login: 'bob' },
  };
}

/** A build that fails until `flag` exists. */
async function failedBuild(): Promise<{ app: GithubSluice; flag: string; buildRun: number }> {
  const started = await startApp();
  const flag = join(started.dir, 'fixed');
  started.github.addCommit(
    REPO,
    sha(1),
    appFiles('v1', pipelineFile([`test -f ${flag}`, 'mkdir -p dist', 'cp VERSION dist/VERSION'])),
  );
  await started.sendPush({ after: sha(1) });
  await started.sluice.idle();
  const create = started.github.calls.find((c) => c.method === 'POST' && c.body?.name === 'Sluice: build');
  const buildRun = Number(create?.response?.id);
  assert.equal(started.github.checkRun(buildRun)?.conclusion, 'failure');
  return { app: started, flag, buildRun };
}

const createdAfter = (calls: RecordedCall[], from: number) =>
  calls.slice(from).filter((c) => c.method === 'POST' && c.path.endsWith('/check-runs'));

describe('re-running from GitHub', () => {
  test('“Re-run” on a failed stage’s check run retries that stage in a new check run, and the pipeline goes on', async () => {
    const { app, flag, buildRun } = await failedBuild();
    writeFileSync(flag, '');
    const before = app.github.calls.length;
    const reply = await app.send('check_run', checkRunEvent('rerequested', buildRun, app.github.appId));
    assert.equal(reply.status, 200);
    await app.sluice.idle();

    const execution = (await app.sluice.store.listExecutions())[0];
    assert.equal(execution?.status, 'succeeded');
    assert.equal(execution?.stages[0]?.attempt, 2);
    const fresh = createdAfter(app.github.calls, before).map((c) => String(c.body?.name));
    assert.deepEqual(fresh.sort(), ['Sluice: build', 'Sluice: dev']);
    const retried = createdAfter(app.github.calls, before).find((c) => c.body?.name === 'Sluice: build')!;
    assert.equal(app.github.checkRun(Number(retried.response?.id))?.conclusion, 'success');
    const history = await app.sluice.store.listHistory(execution!.id);
    assert.ok(history.some((h) => h.entity === 'stage' && h.stage === 'build' && h.reason === 'retried by github:bob'));
  });

  test('the Retry button (requested_action) retries the stage too', async () => {
    const { app, flag, buildRun } = await failedBuild();
    writeFileSync(flag, '');
    await app.send('check_run', checkRunEvent('requested_action', buildRun, app.github.appId, 'retry'));
    await app.sluice.idle();
    assert.equal((await app.sluice.store.listExecutions())[0]?.status, 'succeeded');
  });

  test('check-run events of another app change nothing; a re-run of a check run Sluice has no record of is completed again with why', async () => {
    const { app, flag, buildRun } = await failedBuild();
    writeFileSync(flag, '');
    const before = app.github.calls.length;
    const stray = app.github.addCheckRun({
      name: 'Sluice: build',
      head_sha: sha(1),
      status: 'completed',
      conclusion: 'failure',
    });
    await app.send('check_run', checkRunEvent('rerequested', buildRun, 999), {
      delivery: 'other-app',
    });
    await app.send(
      'check_run',
      checkRunEvent('rerequested', stray, app.github.appId, undefined, { conclusion: null, summary: null }),
      { delivery: 'unknown-run' },
    );
    await app.sluice.idle();
    assert.equal((await app.sluice.store.listExecutions())[0]?.status, 'failed');
    assert.deepEqual(
      app.github
        .writes()
        .filter((c) => app.github.calls.indexOf(c) >= before)
        .map((c) => `${c.method} ${c.path}`),
      [`PATCH /repos/${REPO}/check-runs/${stray}`],
    );
    assert.equal((await app.sluice.store.getDelivery('other-app'))?.note, 'a check run of another app');
    assert.match(
      (await app.sluice.store.getDelivery('unknown-run'))?.note ?? '',
      /not one of Sluice's executions.*\(said so on GitHub\)/,
    );
    const answered = app.github.checkRun(stray) as {
      status: string;
      conclusion: string;
      output: { title: string; summary: string };
    };
    assert.equal(answered.status, 'completed');
    assert.equal(answered.conclusion, 'neutral');
    assert.equal(answered.output.title, 'Not re-run');
    assert.match(
      answered.output.summary,
      /^\*\*Not re-run:\*\* check run \d+ is not one of Sluice's executions: Sluice has no record of it/,
    );

    // One still in progress is not completed from here: whoever runs it finishes it.
    const running = app.github.addCheckRun({ name: 'Sluice: build', head_sha: sha(1), status: 'in_progress' });
    await app.send(
      'check_run',
      checkRunEvent('requested_action', running, app.github.appId, 'retry', {
        status: 'in_progress',
        conclusion: null,
      }),
      { delivery: 'in-progress' },
    );
    await app.sluice.idle();
    assert.equal(app.github.checkRun(running)?.status, 'in_progress');
    assert.match(
      (await app.sluice.store.getDelivery('in-progress'))?.note ?? '',
      /not one of Sluice's executions: Sluice has no record of it\.$/,
    );
  });

  test('“Re-run” on a stage that succeeded completes its check run again, still a success, saying why nothing ran', async () => {
    const started = await startApp();
    started.github.addCommit(REPO, sha(1), appFiles('v1'));
    await started.sendPush({ after: sha(1) });
    await started.sluice.idle();
    const buildRun = Number(
      started.github.calls.find((c) => c.method === 'POST' && c.body?.name === 'Sluice: build')?.response?.id,
    );
    const summary = String((started.github.checkRun(buildRun)?.output as { summary: string }).summary);
    await started.send(
      'check_run',
      checkRunEvent('rerequested', buildRun, started.github.appId, undefined, { conclusion: 'success', summary }),
      { delivery: 'again' },
    );
    await started.sluice.idle();
    assert.match(
      (await started.sluice.store.getDelivery('again'))?.note ?? '',
      /not retried: Stage "build" of execution #1 is succeeded/,
    );
    const run = started.github.checkRun(buildRun) as {
      status: string;
      conclusion: string;
      output: { summary: string };
    };
    assert.equal(run.status, 'completed');
    assert.equal(run.conclusion, 'success');
    assert.match(run.output.summary, /^\*\*Not re-run:\*\* not retried: Stage "build" of execution #1 is succeeded/);
    assert.ok(run.output.summary.endsWith(summary), 'the summary it had stays below');
    assert.equal((await started.sluice.store.listExecutions()).length, 1);
  });
});

describe('“Re-run all checks” on GitHub (check_suite.rerequested)', () => {
  test('retries the failed stage of the commit’s execution, and the pipeline goes on', async () => {
    const { app, flag } = await failedBuild();
    writeFileSync(flag, '');
    const before = app.github.calls.length;
    const reply = await app.send('check_suite', checkSuiteEvent('rerequested', app.github.appId), {
      delivery: 'suite',
    });
    assert.equal(reply.status, 200);
    await app.sluice.idle();
    assert.equal((await app.sluice.store.getDelivery('suite'))?.note, 'retried stage build of execution #1');
    const execution = (await app.sluice.store.listExecutions())[0];
    assert.equal(execution?.status, 'succeeded');
    assert.deepEqual(
      createdAfter(app.github.calls, before)
        .map((c) => String(c.body?.name))
        .sort(),
      ['Sluice: build', 'Sluice: dev'],
    );
    const history = await app.sluice.store.listHistory(execution!.id);
    assert.ok(history.some((h) => h.entity === 'stage' && h.stage === 'build' && h.reason === 'retried by github:bob'));
  });

  test('with nothing failed, or no execution of the commit, the suite gets a neutral check run saying why', async () => {
    const started = await startApp();
    started.github.addCommit(REPO, sha(1), appFiles('v1'));
    await started.sendPush({ after: sha(1) });
    await started.sluice.idle();
    const before = started.github.calls.length;
    await started.send('check_suite', checkSuiteEvent('rerequested', started.github.appId), { delivery: 'all-good' });
    await started.send('check_suite', checkSuiteEvent('rerequested', started.github.appId, sha(9)), {
      delivery: 'unknown-commit',
    });
    await started.sluice.idle();
    const answers = createdAfter(started.github.calls, before);
    assert.deepEqual(
      answers.map((c) => [c.body?.name, c.body?.head_sha, c.body?.status, c.body?.conclusion]),
      [
        ['Sluice: re-run', sha(1), 'completed', 'neutral'],
        ['Sluice: re-run', sha(9), 'completed', 'neutral'],
      ],
    );
    const summaries = answers.map((c) => (c.body?.output as { summary: string }).summary);
    assert.match(
      summaries[0] ?? '',
      /^\*\*Nothing re-run:\*\* Sluice has nothing of aaaaaaa to run again: execution #1 is succeeded and has no failed stage/,
    );
    assert.match(
      summaries[1] ?? '',
      /^\*\*Nothing re-run:\*\* Sluice has no execution of aaaaaaa in acme\/shop to run again/,
    );
    assert.equal((await started.sluice.store.listExecutions()).length, 1);
  });

  test('check_suite events of another app, and other actions, change nothing', async () => {
    const { app } = await failedBuild();
    const before = app.github.calls.length;
    await app.send('check_suite', checkSuiteEvent('rerequested', 999), {
      delivery: 'other-app',
    });
    await app.send('check_suite', checkSuiteEvent('completed', app.github.appId), {
      delivery: 'completed',
    });
    await app.sluice.idle();
    assert.deepEqual(app.github.calls.slice(before), []);
    assert.equal((await app.sluice.store.getDelivery('other-app'))?.note, 'a check suite of another app');
    assert.equal((await app.sluice.store.getDelivery('completed'))?.note, 'nothing to do for check_suite.completed');
    assert.equal((await app.sluice.store.listExecutions())[0]?.status, 'failed');
  });
});

describe('rolling production back from GitHub', () => {
  const withProduction = (dir: string) =>
    shopServerConfig(dir, {
      repos: 'acme/*',
      production: {
        url: 'https://shop.example.com',
        approval: { channel: 'C0123456789', approvers: ['U0AAAAAAA'], skipForRollbacks: true },
      },
      extra: 'github:\n  rollback: [bob]\n',
    });

  async function approve(started: GithubSluice, seq: number): Promise<void> {
    const execution = await started.sluice.store.getExecution(seq);
    assert.equal((execution && findStageSummary(execution, 'production'))?.actions[0]?.status, 'awaiting_approval');
    await started.sluice.runner.dispatch(
      execution!.pipelineId,
      {
        type: 'approval_decided',
        executionId: execution!.id,
        stage: 'production',
        action: 'approve',
        approved: true,
        by: 'test',
      },
      'test',
    );
    await started.sluice.idle();
  }

  test('a production deploy waits for approval on its check run, and *Roll back* deploys the release before it', async () => {
    const started = await startApp({ serverConfig: withProduction });
    started.github.addCommit(REPO, sha(1), shopFiles('v1'));
    started.github.addCommit(REPO, sha(2), shopFiles('v2'));
    await started.sendPush({ after: sha(1) });
    await started.sluice.idle();
    const waiting = started.github.calls.filter((c) => c.body?.name === 'Sluice: production').at(-1);
    assert.equal(waiting?.body?.status, 'in_progress');
    assert.equal((waiting?.body?.output as { title: string }).title, 'Waiting for approval');
    await approve(started, 1);
    await started.sendPush({ before: sha(1), after: sha(2) });
    await started.sluice.idle();
    await approve(started, 2);
    const prod = join(started.dir, 'srv-prod', 'current', 'started');
    assert.equal(readFileSync(prod, 'utf8'), 'v2\n');

    const v2Production = started.github.calls.find(
      (c) => c.method === 'POST' && c.body?.name === 'Sluice: production' && c.body.head_sha === sha(2),
    );
    const id = Number(v2Production?.response?.id);
    assert.deepEqual(
      (started.github.checkRun(id)?.actions as Array<{ identifier: string }>).map((a) => a.identifier),
      ['rollback'],
    );
    await started.send('check_run', checkRunEvent('requested_action', id, started.github.appId, 'rollback'), {
      delivery: 'roll-back',
    });
    await started.sluice.idle();

    assert.equal(readFileSync(prod, 'utf8'), 'v1\n');
    const [rollback] = await started.sluice.store.listExecutions();
    assert.equal(rollback?.status, 'succeeded');
    assert.equal(rollback?.trigger, `rollback of production to #1 (${sha(1).slice(0, 7)}) by github:bob`);
    assert.match(
      (await started.sluice.store.getDelivery('roll-back'))?.note ?? '',
      /rolling production back to #1 in execution #3/,
    );
    const deployments = started.github.calls.filter(
      (c) => c.method === 'POST' && c.path.endsWith('/deployments') && c.body?.environment === 'production',
    );
    assert.deepEqual(
      deployments.map((d) => d.body?.ref),
      [sha(1), sha(2), sha(1)],
    );
  });
});
