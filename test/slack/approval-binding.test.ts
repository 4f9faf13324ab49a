import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { APPROVAL_BINDING, type ApprovalBinding } from '../../src/pipeline/approval-binding.ts';
import { buildOf, pipelineFixture } from '../helpers/pipeline-fixture.ts';
import { approvalInItsOwnStage, productionVersion, REPO, shopFiles } from '../helpers/shop.ts';
import { buttonClick, sendSlackRequest, signSlackRequest } from '../helpers/slack-requests.ts';
import { sha, type SlackSluice, slackSluicePerTest, textOf } from '../helpers/slack-sluice.ts';
import { ANN, CAROL, CHANNEL } from '../helpers/slack-workspace.ts';
import type { SlackMessage } from '../helpers/slack-stand-in.ts';
import { findActionSummary, findStageSummary } from '../../src/store/store.ts';

const startApp = slackSluicePerTest();

const BUILD = ['mkdir -p dist', 'cp VERSION dist/VERSION'];

/** build → an approval in a stage of its own → the deploy in a later stage. */
const OWN_STAGE = pipelineFixture('shop-to-production', (pipeline) => {
  const build = buildOf(pipeline);
  build.run = BUILD;
  delete build.secrets;
  pipeline.stages = pipeline.stages.filter((stage) => stage.name !== 'dev');
  approvalInItsOwnStage(pipeline, 'sign-off');
});

/** The approval runs beside the build that makes what it lets through. */
const besideTheBuild = (fifo: string) =>
  pipelineFixture('shop-to-production', (pipeline) => {
    const [build, , production] = pipeline.stages;
    const [compile] = build!.actions;
    const [approve, deploy] = production!.actions;
    compile!.build!.run = [`cat ${fifo}`, ...BUILD];
    delete compile!.build!.secrets;
    pipeline.stages = [
      { name: 'release', actions: [compile!, approve!, { ...deploy!, needs: ['compile', 'approve'] }] },
    ];
  });

async function state(started: SlackSluice, stage: string, action: string) {
  const execution = await started.sluice.store.getExecution(1);
  return execution && findActionSummary(execution, stage, action);
}

async function bindingOf(started: SlackSluice, stage: string): Promise<ApprovalBinding | undefined> {
  const execution = await started.sluice.store.getExecution(1);
  return started.sluice.store.getRef(APPROVAL_BINDING, `${execution!.id}/${stage}/approve/1`);
}

describe('an approval is bound to what it lets through', () => {
  test('an approval in a stage of its own is bound to the digest of the artifact the later deploy uses', async () => {
    const started = await startApp();
    await started.push(1, 'v1', { pipeline: OWN_STAGE });
    const execution = await started.sluice.store.getExecution(1);
    const artifact = await started.sluice.store.findArtifact(execution!.id, 'app');
    const card = started.card();
    assert.ok(
      textOf(card).includes(`artifact \`sha256:${artifact!.sha256.slice(0, 12)}\``),
      `the card names the artifact:\n${textOf(card)}`,
    );

    await started.click(card, 'approve', ANN);
    assert.equal(productionVersion(started), 'v1');
    assert.deepEqual((await bindingOf(started, 'sign-off'))?.artifacts, { app: artifact!.sha256 });
    assert.equal((await bindingOf(started, 'sign-off'))?.by, `slack:${ANN}`);
  });

  test('an approval beside the build waits for the artifact: approving before it exists is refused, and once built it binds to it', async () => {
    const started = await startApp();
    const fifo = join(started.dir, 'hold-build');
    execFileSync('mkfifo', [fifo]);
    started.github.addCommit(REPO, sha(1), shopFiles('v1', besideTheBuild(fifo)), { message: 'Release v1' });
    const posted = started.slack.waitForCall(
      (c) => c.method === 'chat.postMessage' && c.args.channel === CHANNEL && c.args.blocks !== undefined,
    );
    const reply = await started.sendPush({ after: sha(1), message: 'Release v1' });
    assert.equal(reply.status, 200);
    await posted;
    const waiting = started.card();
    assert.match(textOf(waiting), /⏳ Waits for the build to produce `app`: it can be approved once it has/);
    assert.doesNotMatch(textOf(waiting), /sha256:/, 'no digest to show yet');

    const told = started.slack.waitForCall((c) => c.method === 'chat.postEphemeral' && c.args.user === ANN);
    await sendSlackRequest(started.sluice.url, signSlackRequest(buttonClick(waiting, 'sluice_approve', ANN)));
    assert.equal(
      String((await told).args.text),
      'The build has not produced "app" yet, so there is nothing to approve; wait for it and approve again; nothing was decided.',
    );
    assert.equal((await state(started, 'release', 'approve'))?.status, 'awaiting_approval');
    assert.equal(productionVersion(started), undefined);

    await writeFile(fifo, 'go\n');
    await started.sluice.idle();
    const execution = await started.sluice.store.getExecution(1);
    const artifact = await started.sluice.store.findArtifact(execution!.id, 'app');
    const bound: SlackMessage = structuredClone(started.slack.messages.get(waiting.ts)!);
    assert.ok(
      textOf(bound).includes(`artifact \`sha256:${artifact!.sha256.slice(0, 12)}\``),
      `the card now names the artifact:\n${textOf(bound)}`,
    );
    assert.doesNotMatch(textOf(bound), /Waits for the build/);

    await started.click(bound, 'approve', CAROL);
    assert.equal(productionVersion(started), 'v1');
    assert.deepEqual((await bindingOf(started, 'release'))?.artifacts, { app: artifact!.sha256 });
  });

  test('a deploy whose artifact record was swapped after the approval is refused, naming both digests, and nothing is deployed', async () => {
    const started = await startApp();
    await started.push(1, 'v1', { pipeline: OWN_STAGE });
    assert.match(
      String((await started.command(`disable ${REPO} production holding the deploy`, ANN)).text),
      /disabled the transition into \*production\*/,
    );
    await started.click(started.card(), 'approve', ANN);
    const execution = await started.sluice.store.getExecution(1);
    const approved = await started.sluice.store.findArtifact(execution!.id, 'app');
    assert.equal((execution && findStageSummary(execution, 'production'))?.status, 'waiting');

    const other = 'f'.repeat(64);
    await started.sluice.store.recordArtifact({ ...approved!, sha256: other });
    await started.command(`enable ${REPO} production`, ANN);

    const deploy = await state(started, 'production', 'prod-deploy');
    assert.equal(deploy?.status, 'failed');
    assert.equal(
      deploy?.reason,
      `artifact "app" is now sha256 ${other}, but the approval sign-off/approve (by slack:${ANN}) let through sha256 ${approved!.sha256}, so nothing is deployed`,
    );
    assert.equal(productionVersion(started), undefined);
    assert.equal(existsSync(join(started.dir, 'srv-prod', 'current')), false, 'no release was switched to');
  });
});
