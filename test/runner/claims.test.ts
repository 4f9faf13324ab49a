/**
 * Claims between Sluice processes on one store (PRODUCT R2), with two
 * runners in one test: one runs an action, the other's clock is ahead, so
 * to it the first one's claim has run out, as if its process were dead.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ActionRun, ActionOutcome, ActionRunner } from '../../src/actions/action-runner.ts';
import { PipelineRunner } from '../../src/runner/pipeline-runner.ts';
import { openStore } from '../../src/store/open-store.ts';
import { pipeline } from '../helpers/engine-harness.ts';

test('a peer interrupts an action whose claim ran out; its holder then stops it, cannot record its work, and its late result changes nothing', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-claims-'));
  const store = await openStore({ dataDir: dir });
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const seen: { aborted?: boolean; holds?: boolean } = {};
  let release = () => {};
  const slow: ActionRunner = {
    async run(context: ActionRun): Promise<ActionOutcome> {
      await new Promise<void>((done) => {
        release = done;
        context.signal.addEventListener('abort', () => done(), { once: true });
      });
      seen.aborted = context.signal.aborted;
      seen.holds = await context.holdsClaim?.();
      return { ok: true };
    },
  };
  const holder = new PipelineRunner({ store, actions: slow, actor: 'sluice', owner: 'replica-a', leaseMs: 300 });
  const peer = new PipelineRunner({
    store,
    actions: slow,
    actor: 'sluice',
    owner: 'replica-b',
    leaseMs: 300,
    clock: () => Date.now() + 60_000,
  });
  const pipelineId = await store.ensurePipeline('acme/web', '.github/sluice.yml');
  const execution = await holder.start(
    { pipelineId, revision: { sha: 'abc1234' }, definition: pipeline({ build: ['compile'] }), trigger: 'test' },
    'test',
  );

  // Alive and renewing: a peer whose clock agrees finds nothing to take over.
  await new Promise((done) => setTimeout(done, 400));
  const fair = new PipelineRunner({ store, actions: slow, actor: 'sluice', owner: 'replica-c', leaseMs: 300 });
  assert.equal(await fair.sweep(), 0);

  assert.equal(await peer.sweep(), 1);
  await holder.idle();
  assert.deepEqual(seen, { aborted: true, holds: false }, 'the holder stopped the action and knows it lost it');
  const after = await store.getExecution(execution.id);
  assert.equal(after?.status, 'interrupted');
  assert.equal(
    after?.stages[0]?.actions[0]?.reason,
    'the Sluice process running it (replica-a) stopped: its claim ran out',
  );
  release();
  holder.stop();
});

test('the peer that finds a claim run out stops what that attempt left running before it marks the action interrupted, and only that attempt', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-claims-'));
  const store = await openStore({ dataDir: dir });
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  let release = () => {};
  const slow: ActionRunner = {
    run: (context) =>
      new Promise<ActionOutcome>((done) => {
        release = () => done({ ok: true });
        context.signal.addEventListener('abort', () => done({ ok: false, reason: 'stopped' }), { once: true });
      }),
  };
  const holder = new PipelineRunner({ store, actions: slow, actor: 'sluice', owner: 'replica-a', leaseMs: 300 });
  const stopped: Array<{ ref: unknown; status: string | undefined }> = [];
  const peer = new PipelineRunner({
    store,
    actions: slow,
    actor: 'sluice',
    owner: 'replica-b',
    leaseMs: 300,
    clock: () => Date.now() + 60_000,
    stopOrphans: async (ref) => {
      const execution = ref && (await store.getExecution(ref.executionId));
      stopped.push({ ref, status: execution?.stages[0]?.actions[0]?.status });
    },
  });
  const pipelineId = await store.ensurePipeline('acme/web', '.github/sluice.yml');
  const execution = await holder.start(
    { pipelineId, revision: { sha: 'abc1234' }, definition: pipeline({ build: ['compile'] }), trigger: 'test' },
    'test',
  );

  assert.equal(await peer.sweep(), 1);
  assert.deepEqual(stopped, [
    {
      ref: { executionId: execution.id, stage: 'build', action: 'compile', attempt: 1, pipelineId, owner: 'replica-a' },
      status: 'running',
    },
  ]);
  await holder.idle();
  release();
  holder.stop();
});
