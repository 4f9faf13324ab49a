/**
 * Every Deployment Sluice creates on GitHub ends, whichever way its
 * execution ends: deployed, failed, rejected, expired, superseded,
 * cancelled, interrupted, rolled back. None is left "Queued" for ever.
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { GithubStandIn, RecordedCall } from '../helpers/github-stand-in.ts';
import { REPO, shopFiles } from '../helpers/shop.ts';
import { sha, type SlackSluice, slackSluicePerTest } from '../helpers/slack-sluice.ts';
import { ANN, CAROL } from '../helpers/slack-workspace.ts';
import { buildOf, pipelineFixture } from '../helpers/pipeline-fixture.ts';

const startApp = slackSluicePerTest();

const TERMINAL = ['success', 'failure', 'error', 'inactive'];

/** Each Deployment as `<environment> #<execution>: <latest state> (<its description>)`. */
function endings(github: GithubStandIn, seqOf: Map<string, number>): string[] {
  return github.deployments(REPO).map((d) => {
    const created = github.calls.find((c) => c.path.endsWith('/deployments') && c.response?.id === d.id);
    const seq = (created?.body?.payload as { sluice?: { execution?: string } } | undefined)?.sluice?.execution;
    const last = d.statuses.at(-1);
    return `${d.environment} #${seqOf.get(seq ?? '') ?? '?'}: ${last?.state ?? 'none'} (${last?.description ?? ''})`;
  });
}

async function seqs(started: SlackSluice): Promise<Map<string, number>> {
  return new Map((await started.sluice.store.listExecutions()).map((e) => [e.id, e.seq]));
}

function assertAllEnded(started: SlackSluice, lines: string[]): void {
  for (const deployment of started.github.deployments(REPO)) {
    assert.ok(
      TERMINAL.includes(deployment.statuses.at(-1)?.state ?? ''),
      `every Deployment ended:\n${lines.join('\n')}`,
    );
  }
}

/** Production waits for the approval; dev's stage runs `check` beside the deploy, which waits for it. */
function guardedPipeline(dir: string): string {
  return pipelineFixture('shop-to-production', (pipeline) => {
    const build = buildOf(pipeline);
    build.run = [`test ! -f ${join(dir, 'break-build')}`, 'mkdir -p dist', 'cp VERSION dist/VERSION'];
    delete build.secrets;
    const dev = pipeline.stages.find((stage) => stage.name === 'dev')!;
    const check = [`while [ ! -f ${join(dir, 'go')} ]; do sleep 0.05; done`, `test ! -f ${join(dir, 'fail-check')}`];
    dev.actions = [
      { name: 'check', command: { host: 'builder', run: check } },
      { ...dev.actions[0]!, needs: ['check'] },
    ];
  });
}

describe('every Deployment ends', () => {
  test('approved, rejected, expired, superseded, cancelled and rolled back: each Deployment’s latest status is terminal and says why', async () => {
    const started = await startApp();
    await started.push(1, 'v1');
    await started.click(started.card(), 'approve', ANN);
    await started.push(2, 'v2');
    await started.click(started.card(), 'approve', ANN);
    await started.push(3, 'v3');
    await started.click(started.card(), 'reject', ANN);
    await started.push(4, 'v4');
    started.later(25 * 3_600_000);
    assert.equal(await started.sluice.sweep(), 1);
    await started.sluice.idle();
    await started.push(5, 'v5');
    await started.push(6, 'v6');
    const sixth = (await started.sluice.store.listExecutions()).find((e) => e.seq === 6)!;
    await started.sluice.runner.dispatch(
      sixth.pipelineId,
      { type: 'cancel_execution', executionId: sixth.id, by: 'cli:ann', reason: 'release freeze' },
      'cli:ann',
    );
    await started.sluice.idle();
    const rollback = await started.command(`rollback ${REPO} production`, ANN);
    assert.match(
      String(rollback.text),
      /is rolling \*production\* of \*acme\/shop\* back to #1 .* in execution #7; it waits for an approval in <#C0DEPLOYS>\.$/,
    );
    // Another approver lets the rollback through, as the environment's approval rules ask.
    await started.sluice.idle();
    await started.click(started.card(), 'approve', CAROL);
    await started.sluice.idle();

    const lines = endings(started.github, await seqs(started));
    assertAllEnded(started, lines);
    const production = lines.filter((l) => l.startsWith('production'));
    assert.deepEqual(production, [
      'production #1: inactive (Replaced by a newer deploy)',
      'production #2: inactive (Replaced by a newer deploy)',
      `production #3: inactive (Not deployed: action "approve" failed: rejected by slack:${ANN})`,
      'production #4: inactive (Not deployed: action "approve" failed: expired: nobody decided within 24h)',
      `production #5: inactive (Not deployed: superseded by execution #6 (${sha(6).slice(0, 7)}))`,
      'production #6: inactive (Not deployed: cancelled by cli:ann: release freeze)',
      'production #7: success (Deployed)',
    ]);
    assert.equal(
      lines.filter((l) => l.startsWith('dev')).every((l) => /: (success|inactive) /.test(l)),
      true,
      lines.join('\n'),
    );
  });

  test('a failed build, a failed sibling action and an interrupted deploy: each Deployment’s latest status is terminal and says why', async () => {
    const started = await startApp();
    const pipeline = guardedPipeline(started.dir);
    const file = (name: string) => join(started.dir, name);
    const send = async (n: number) => {
      // The start hook waits for `release`, so a deploy stays running until the test lets it go.
      const files = {
        ...shopFiles(`v${n}`, pipeline),
        'deploy/start.sh': `while [ ! -f ${file('release')} ]; do sleep 0.05; done\ncat dist/VERSION > started\n`,
      };
      started.github.addCommit(REPO, sha(n), files);
      const reply = await started.sendPush({ after: sha(n), ...(n > 1 && { before: sha(n - 1) }) });
      assert.equal(reply.status, 200, reply.text);
    };
    const statusOf = (state: string, deployment: number) => (c: RecordedCall) =>
      c.status === 201 &&
      c.body?.state === state &&
      c.path.endsWith(`/deployments/${started.github.deployments(REPO)[deployment]?.id ?? -1}/statuses`);

    // 1: the build fails, so nothing deploys, and no Deployment is created.
    writeFileSync(file('break-build'), '');
    await send(1);
    await started.sluice.idle();
    assert.equal(started.github.deployments(REPO).length, 0);

    // 2: dev's Deployment is queued while `check` runs beside it; `check` fails, so it never deploys.
    rmSync(file('break-build'));
    writeFileSync(file('fail-check'), '');
    await send(2);
    await started.github.waitForCall(statusOf('queued', 0));
    writeFileSync(file('go'), '');
    await started.sluice.idle();

    // 3: `check` passes and dev deploys; while it does, the process running it is gone (interrupted).
    rmSync(file('fail-check'));
    await send(3);
    await started.github.waitForCall(statusOf('in_progress', 1));
    const third = (await started.sluice.store.listExecutions()).find((e) => e.seq === 3)!;
    await started.sluice.runner.dispatch(
      third.pipelineId,
      { type: 'interrupt_running', reason: 'the Sluice process running it stopped' },
      'sluice',
    );
    writeFileSync(file('release'), '');
    await started.sluice.idle();

    const lines = endings(started.github, await seqs(started));
    assertAllEnded(started, lines);
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.match(lines[0]!, /^dev #2: error \(Not deployed: action "check" failed: /);
    assert.equal(lines[1], 'dev #3: error (the Sluice process running it stopped)');
  });
});
