/** Store suite, part 5: the queries that prune what the retention settings let go. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Fresh } from './define-store-suite.ts';
import { moveAction, moveExecution } from './fixtures/hand-made-steps.ts';
import { pushedExecution, pushOf } from './fixtures/two-stage-pipeline.ts';
import type { StoreBackend } from './store-backends.ts';

export function defineRetentionTests(_backend: StoreBackend, fresh: Fresh): void {
  it('deletes finished executions with their logs, history, artifact records and the ids kept of their check runs, Deployments and cards, and never a running one', async (t) => {
    const { store, place } = await fresh(t);
    const { pipeline, execution: old } = await pushedExecution(store, 'old');
    const running = await store.createExecution(
      { ...pushOf(pipeline, 'running'), source: '/data/sources/r.tar.gz' },
      'github',
      1_000,
    );
    const recent = await store.createExecution(pushOf(pipeline, 'recent'), 'github', 1_000);
    await store.updatePipeline(
      pipeline,
      { actor: 'engine', now: 1_500 },
      moveAction(running.id, 'build', 'compile', 'running'),
    );
    await store.updatePipeline(
      pipeline,
      { actor: 'engine', now: 2_000 },
      moveExecution(old.id, 'failed', 'make failed'),
    );
    await store.updatePipeline(pipeline, { actor: 'engine', now: 5_000 }, moveExecution(recent.id, 'succeeded'));
    const ref = { executionId: old.id, stage: 'build', action: 'compile', attempt: 1 };
    await store.appendLog(ref, [{ stream: 'stdout', text: 'cc main.c', at: 1_200 }]);
    await store.recordArtifact({
      executionId: old.id,
      name: 'app',
      sha256: 'a'.repeat(64),
      size: 10,
      stage: 'build',
      action: 'compile',
      createdAt: 1_300,
    });
    await store.recordArtifact({
      executionId: running.id,
      name: 'app',
      sha256: 'b'.repeat(64),
      size: 10,
      stage: 'build',
      action: 'compile',
      createdAt: 1_510,
    });

    // The ids Sluice kept of what it made elsewhere for the old execution go with it; others stay.
    await store.putRef('check_run', `${old.id}/build`, { id: 501, sent: '1', completed: true }, 1_400);
    await store.putRef('check_run_id', '501', { executionId: old.id, pipelineId: pipeline, stage: 'build' }, 1_400);
    await store.putRef(
      'deployment',
      `${old.id}/production/deploy/1`,
      { id: 7, environment: 'production', state: 'success' },
      1_400,
    );
    await store.putRef(
      'slack_card',
      `${old.id}/production/approve/1`,
      { channel: 'C1', ts: '1.2', sent: '', replies: [] },
      1_400,
    );
    await store.putRef('check_run', `${running.id}/build`, { id: 502, sent: '', completed: false }, 1_600);
    await store.putRef('check_run_id', '502', { executionId: running.id, pipelineId: pipeline, stage: 'build' }, 1_600);
    await store.putRef('installation', 'acme/web', { id: 9 }, 1_000);
    // A creation claimed and never finished (its holder died) goes with its execution too.
    const claim = { owner: 'replica-a', now: 1_400, leaseMs: 60_000 };
    assert.equal(
      (await store.claimCreation('deployment', `${old.id}/production/deploy/2`, claim, () => true)).decision,
      'create',
    );

    assert.deepEqual(await store.listFinishedExecutions(3_000), [old.id]);
    assert.deepEqual(await store.listFinishedExecutions(6_000), [old.id, recent.id]);
    assert.deepEqual((await store.listArtifactUses()).map((u) => `${u.sha256[0]} ${u.status} ${u.updatedAt}`).sort(), [
      'a failed 2000',
      'b running 1500',
    ]);
    assert.deepEqual((await store.listSourceUses()).map((u) => `${u.source} ${u.status}`).sort(), [
      '/data/sources/r.tar.gz running',
      'github failed',
      'github succeeded',
    ]);

    // The running one is asked for too, and stays: only finished executions go.
    assert.equal(await store.deleteExecutions([old.id, running.id]), 1);
    assert.equal(await store.getExecution(old.id), undefined);
    assert.deepEqual(await store.readLog(ref), []);
    assert.deepEqual(await store.listHistory(old.id), []);
    assert.equal(await store.findArtifact(old.id, 'app'), undefined);
    for (const table of ['stage_runs', 'action_runs', 'state_changes', 'log_lines', 'artifacts']) {
      assert.deepEqual(
        await place.peek(`SELECT execution_id FROM ${table} WHERE execution_id = '${old.id}'`),
        [],
        table,
      );
    }
    assert.deepEqual((await store.listExecutions()).map((e) => e.revision.sha).sort(), ['recent', 'running']);
    assert.equal((await store.findArtifact(running.id, 'app'))?.sha256, 'b'.repeat(64));
    assert.deepEqual(
      (await place.peek('SELECT kind, value FROM external_refs ORDER BY kind, key')).map(
        (r) => `${r.kind as string} ${r.value as string}`,
      ),
      [
        'check_run {"id":502,"sent":"","completed":false}',
        `check_run_id {"executionId":"${running.id}","pipelineId":"${pipeline}","stage":"build"}`,
        'installation {"id":9}',
      ],
    );
    assert.equal(await store.deleteExecutions([]), 0);
  });

  it('deletes many executions at once', async (t) => {
    const { store } = await fresh(t);
    const pipeline = await store.ensurePipeline('acme/web', '.github/sluice.yml');
    const ids: string[] = [];
    for (let i = 0; i < 510; i++)
      ids.push((await store.createExecution(pushOf(pipeline, `s${i}`), 'github', 1_000)).id);
    // Created but never started: not running, so they may go.
    await store.updatePipeline(pipeline, { actor: 'engine', now: 1_000, include: ids }, (snapshot) => {
      for (const id of ids) snapshot.executions.find((e) => e.id === id)!.status = 'cancelled';
      return {
        snapshot,
        changes: ids.map((id) => ({ executionId: id, entity: 'execution' as const, from: 'running', to: 'cancelled' })),
        commands: [],
      };
    });
    assert.equal((await store.listFinishedExecutions(2_000)).length, 510);
    assert.equal(await store.deleteExecutions(ids), 510);
    assert.deepEqual(await store.listExecutions(), []);
  });

  it('empties the payloads of handled deliveries, later forgets their ids, and never touches one not yet handled', async (t) => {
    const { store } = await fresh(t);
    const delivery = (id: string, receivedAt: number, done?: string) => ({
      id,
      event: 'push',
      payload: `{"n":"${id}"}`,
      receivedAt,
      ...(done && { done }),
    });
    await store.recordDelivery(delivery('handled', 1_000));
    const claimed = await store.claimDelivery('me', 510, 60_000);
    assert.equal(claimed?.id, 'handled');
    await store.finishDelivery('handled', 'done', undefined, 2_000);
    await store.recordDelivery(delivery('ignored', 1_500, 'not a push to a watched branch'));
    await store.recordDelivery(delivery('waiting', 1_510));
    await store.recordDelivery(delivery('new', 8_000, 'ping'));

    assert.deepEqual(await store.pruneDeliveries(5_000, 1_800), { payloads: 1, deliveries: 1 });
    assert.equal((await store.getDelivery('handled'))?.payload, '');
    assert.equal(await store.getDelivery('ignored'), undefined);
    assert.equal((await store.getDelivery('waiting'))?.payload, '{"n":"waiting"}');
    assert.equal((await store.getDelivery('new'))?.payload, '{"n":"new"}');
    // The id of a handled delivery is still known, so GitHub sending it again starts nothing.
    assert.equal(await store.recordDelivery(delivery('handled', 9_000)), false);
    assert.equal(await store.recordDelivery(delivery('ignored', 9_000)), true);
    assert.deepEqual(await store.pruneDeliveries(5_000, 1_800), { payloads: 0, deliveries: 0 });
  });
}
