/** Store suite, part 4: claims on running actions, for several Sluice processes on one database (PRODUCT R2). */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Store } from '../../src/store/store.ts';
import type { Fresh } from './define-store-suite.ts';
import { moveAction } from './fixtures/hand-made-steps.ts';
import { pushedExecution, pushOf } from './fixtures/two-stage-pipeline.ts';
import type { StoreBackend } from './store-backends.ts';

/** A pushed execution whose compile runs, claimed by replica-a at 2_000 until 12_000; `ref` is that attempt. */
async function compileClaimed(store: Store) {
  const { pipeline, execution } = await pushedExecution(store);
  const { id } = execution;
  const ref = { executionId: id, stage: 'build', action: 'compile', attempt: 1 };
  await store.updatePipeline(
    pipeline,
    { actor: 'engine', now: 2_000, claim: { owner: 'replica-a', until: 12_000 } },
    moveAction(id, 'build', 'compile', 'running'),
  );
  return { pipeline, id, ref };
}

export function defineClaimTests(_backend: StoreBackend, fresh: Fresh): void {
  it('an action is held by the process that started it until its lease runs out, and renewing extends it', async (t) => {
    const { store } = await fresh(t);
    const { pipeline, ref } = await compileClaimed(store);

    assert.deepEqual(await store.listExpiredClaims(11_999, 0), [], 'held while its lease runs');
    assert.deepEqual(await store.listExpiredClaims(12_001, 0), [{ ...ref, pipelineId: pipeline, owner: 'replica-a' }]);
    assert.deepEqual(await store.renewClaims('replica-a', [ref], 22_000), [], 'its holder renews it');
    assert.deepEqual(await store.listExpiredClaims(20_000, 0), []);
    assert.deepEqual(await store.renewClaims('replica-b', [ref], 30_000), [ref], 'another process does not hold it');
    assert.deepEqual(
      await store.renewClaims('replica-a', [{ ...ref, attempt: 2 }], 30_000),
      [{ ...ref, attempt: 2 }],
      'nor an attempt that is not running',
    );
  });

  it('an action that stops running holds no claim, and one started without a claim is taken for abandoned once it is stale', async (t) => {
    const { store } = await fresh(t);
    const { pipeline, id, ref } = await compileClaimed(store);
    await store.updatePipeline(
      pipeline,
      { actor: 'engine', now: 3_000 },
      moveAction(id, 'build', 'compile', 'succeeded'),
    );
    assert.deepEqual(await store.listExpiredClaims(99_000, 99_000), []);
    assert.deepEqual(await store.renewClaims('replica-a', [ref], 50_000), [ref]);

    const other = await store.createExecution(pushOf(pipeline, 'b2c3d4e'), 'github', 4_000);
    await store.updatePipeline(
      pipeline,
      { actor: 'cli', now: 5_000 },
      moveAction(other.id, 'build', 'compile', 'running'),
    );
    assert.deepEqual(await store.listExpiredClaims(9_000, 4_000), [], 'moved recently');
    assert.deepEqual(await store.listExpiredClaims(9_000, 6_000), [
      { executionId: other.id, stage: 'build', action: 'compile', attempt: 1, pipelineId: pipeline, owner: null },
    ]);
  });
}
