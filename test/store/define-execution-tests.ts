/** Store suite, part 1: executions, engine steps, history, transitions and concurrency. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { step } from '../../src/pipeline/engine.ts';
import { findStageSummary, StoreError } from '../../src/store/store.ts';
import type { Fresh } from './define-store-suite.ts';
import { bumpStageAttempt, failHalfway, moveAction, moveExecution, setTransition } from './fixtures/hand-made-steps.ts';
import { corruptRow } from './fixtures/corrupt-row.ts';
import { pushedExecution, pushOf } from './fixtures/two-stage-pipeline.ts';
import type { StoreBackend } from './store-backends.ts';

export function defineExecutionTests(backend: StoreBackend, fresh: Fresh): void {
  it('numbers executions 1, 2, 3 within each pipeline and starts them with everything pending', async (t) => {
    const { store } = await fresh(t);
    const web = await store.ensurePipeline('acme/web', '.github/sluice.yml');
    const api = await store.ensurePipeline('acme/api', '.github/sluice.yml');
    assert.equal(await store.ensurePipeline('acme/web', '.github/sluice.yml'), web);

    const first = await store.createExecution(pushOf(web, 'aaa'), 'github', 1_000);
    const second = await store.createExecution(pushOf(web, 'bbb'), 'github', 2_000);
    const other = await store.createExecution(pushOf(api, 'ccc'), 'github', 3_000);
    assert.deepEqual([first.seq, second.seq, other.seq], [1, 2, 1]);

    assert.equal(first.status, 'running');
    assert.deepEqual(first.stages, {
      build: { status: 'pending', attempt: 1, actions: { compile: { status: 'pending', attempt: 1 } } },
      production: {
        status: 'pending',
        attempt: 1,
        actions: { approve: { status: 'pending', attempt: 1 }, deploy: { status: 'pending', attempt: 1 } },
      },
    });

    const saved = await store.getExecution(first.id);
    assert.equal(saved?.repo, 'acme/web');
    assert.deepEqual(saved?.revision, { sha: 'aaa', ref: 'main', message: 'Fix the thing', author: 'alice' });
    assert.equal(saved?.trigger, 'push');
    assert.equal(saved?.source, 'github');
    assert.deepEqual(saved?.definition, pushOf(web).definition);
    assert.deepEqual(
      saved?.stages.map((s) => [s.name, s.status, s.actions.map((a) => `${a.name}:${a.status}:${a.attempt}`)]),
      [
        ['build', 'pending', ['compile:pending:1']],
        ['production', 'pending', ['approve:pending:1', 'deploy:pending:1']],
      ],
    );
    assert.equal((await store.getExecution(2, web))?.id, second.id);
    assert.equal((await store.getExecution('2', web))?.id, second.id);
    assert.equal((await store.getExecution(1, api))?.id, other.id);
    assert.equal(
      (await store.getExecution(1))?.id,
      other.id,
      'without a pipeline, the newest execution with that number',
    );
    assert.equal(await store.getExecution(3, web), undefined);
    assert.equal(await store.getExecution(other.id, web), undefined, 'an id of another pipeline');
    assert.deepEqual(await store.listHistory(first.id), [
      {
        executionId: first.id,
        entity: 'execution',
        from: null,
        to: 'running',
        reason: 'push',
        actor: 'github',
        at: 1_000,
      },
    ]);
  });

  it("raises an execution's version with every step that changes it, and with no other write", async (t) => {
    const { store } = await fresh(t);
    const { pipeline, execution } = await pushedExecution(store);
    const other = await store.createExecution(pushOf(pipeline, 'bbb'), 'github', 1_000);
    const version = async (id = execution.id) => (await store.getExecution(id))?.version;
    const first = await version();
    assert.equal(typeof first, 'number');

    await store.updatePipeline(
      pipeline,
      { actor: 'engine', now: 2_000 },
      moveAction(execution.id, 'build', 'compile', 'running'),
    );
    const running = await version();
    assert.ok(running! > first!, `a started action raises it (${first} → ${running})`);
    await store.appendLog({ executionId: execution.id, stage: 'build', action: 'compile', attempt: 1 }, [
      { stream: 'stdout', text: 'compiling', at: 2_500 },
    ]);
    assert.equal(await version(), running, 'a log line is no change of state');
    await store.updatePipeline(
      pipeline,
      { actor: 'engine', now: 3_000 },
      moveExecution(execution.id, 'cancelled', 'by hand'),
    );
    assert.ok((await version())! > running!, 'so does the execution ending');
    assert.equal(await version(other.id), first, 'another execution of the pipeline keeps its own');
  });

  it('creates an execution already superseded when supersededIf, asked in its transaction, gives a reason', async (t) => {
    const { store } = await fresh(t);
    const pipeline = await store.ensurePipeline('acme/web', '.github/sluice.yml');
    await store.putRef(
      'branch_head',
      'acme/web:main',
      { delivery: 'd2', sha: 'bbb', before: 'aaa', pushedAt: 2 },
      1_000,
    );
    const asked: string[] = [];
    const execution = await store.createExecution(
      {
        ...pushOf(pipeline, 'aaa'),
        supersededIf: async (refs) => {
          const head = await refs.getRef('branch_head', 'acme/web:main');
          asked.push(head?.delivery ?? 'none');
          return head?.delivery === 'd1' ? undefined : `superseded by ${head?.sha}, pushed to main after this commit`;
        },
      },
      'github',
      2_000,
    );
    assert.deepEqual(asked, ['d2']);
    const reason = 'superseded by bbb, pushed to main after this commit';
    assert.equal(execution.status, 'superseded');
    const saved = await store.getExecution(execution.id);
    assert.deepEqual(
      [saved?.status, saved?.reason, ...(saved?.stages.map((s) => `${s.name}:${s.status}:${s.reason}`) ?? [])],
      ['superseded', reason, `build:superseded:${reason}`, `production:superseded:${reason}`],
    );
    assert.deepEqual(
      (await store.listHistory(execution.id)).map((h) => `${h.entity} ${h.stage ?? ''} ${h.from} → ${h.to}`),
      [
        'execution  null → running',
        'execution  running → superseded',
        'stage build pending → superseded',
        'stage production pending → superseded',
      ],
    );
    // The engine has nothing to start of it.
    const commands = await store.updatePipeline(
      pipeline,
      { actor: 'engine', now: 3_000, include: [execution.id] },
      (snapshot) => step(snapshot, { type: 'tick' }, 3_000),
    );
    assert.deepEqual(commands, []);
    assert.equal((await store.getExecution(execution.id))?.status, 'superseded');
  });

  it('saves what a step changed and records each change with its time and actor (P7)', async (t) => {
    const { store } = await fresh(t);
    const { pipeline, execution } = await pushedExecution(store);

    const commands = await store.updatePipeline(
      pipeline,
      { actor: 'engine', now: 2_000 },
      moveAction(execution.id, 'build', 'compile', 'running'),
    );
    assert.deepEqual(commands, [
      { type: 'run', executionId: execution.id, stage: 'build', action: 'compile', attempt: 1 },
    ]);
    await store.updatePipeline(
      pipeline,
      { actor: 'builder', now: 3_000 },
      moveAction(execution.id, 'build', 'compile', 'failed', 'exit 2'),
    );

    const saved = await store.getExecution(execution.id);
    const build = saved && findStageSummary(saved, 'build');
    assert.equal(build?.status, 'running');
    assert.deepEqual(build?.actions, [
      { name: 'compile', status: 'failed', attempt: 1, reason: 'exit 2', startedAt: 2_000, finishedAt: 3_000 },
    ]);
    assert.equal(saved?.updatedAt, 3_000);
    assert.deepEqual((await store.listHistory(execution.id)).slice(1), [
      {
        executionId: execution.id,
        entity: 'stage',
        stage: 'build',
        from: 'pending',
        to: 'running',
        attempt: 1,
        actor: 'engine',
        at: 2_000,
      },
      {
        executionId: execution.id,
        entity: 'action',
        stage: 'build',
        action: 'compile',
        from: 'pending',
        to: 'running',
        attempt: 1,
        actor: 'engine',
        at: 2_000,
      },
      {
        executionId: execution.id,
        entity: 'action',
        stage: 'build',
        action: 'compile',
        from: 'running',
        to: 'failed',
        attempt: 1,
        reason: 'exit 2',
        actor: 'builder',
        at: 3_000,
      },
    ]);
  });

  it('saves nothing of a step that throws, and passes its error on', async (t) => {
    const { store } = await fresh(t);
    const { pipeline, execution } = await pushedExecution(store);
    const before = await store.getExecution(execution.id);

    await assert.rejects(
      store.updatePipeline(pipeline, { actor: 'engine', now: 2_000 }, failHalfway(execution.id)),
      /the engine gave up/,
    );
    assert.deepEqual(await store.getExecution(execution.id), before);
    assert.equal((await store.listHistory(execution.id)).length, 1);
    await assert.rejects(
      store.updatePipeline('no-such-pipeline', { actor: 'engine', now: 2_000 }, moveExecution(execution.id, 'failed')),
      (error) => error instanceof StoreError && error.code === 'NOT_FOUND',
    );
  });

  it('shows a step the running executions, plus finished ones only when asked to include them', async (t) => {
    const { store } = await fresh(t);
    const { pipeline, execution: done } = await pushedExecution(store, 'old');
    const running = await store.createExecution(pushOf(pipeline, 'new'), 'github', 2_000);
    await store.updatePipeline(
      pipeline,
      { actor: 'alice', now: 3_000 },
      moveExecution(done.id, 'cancelled', 'cancelled by alice'),
    );

    const seen: string[][] = [];
    const look = (snapshot: Parameters<Parameters<typeof store.updatePipeline>[2]>[0]) => {
      seen.push(snapshot.executions.map((e) => `#${e.seq} ${e.status}${e.reason ? ` (${e.reason})` : ''}`));
      return { snapshot, changes: [], commands: [] };
    };
    await store.updatePipeline(pipeline, { actor: 'engine', now: 4_000 }, look);
    await store.updatePipeline(pipeline, { actor: 'engine', now: 4_000, include: [done.id] }, look);
    assert.deepEqual(seen, [['#2 running'], ['#1 cancelled (cancelled by alice)', '#2 running']]);

    await store.updatePipeline(
      pipeline,
      { actor: 'bob', now: 5_000, include: [done.id] },
      moveExecution(done.id, 'running', 'retried by bob'),
    );
    assert.equal((await store.getExecution(done.id))?.status, 'running');
    assert.equal((await store.getExecution(running.id))?.status, 'running');
  });

  it('keeps transitions, and an audit of who disabled and enabled them (P5)', async (t) => {
    const { store, place } = await fresh(t);
    const pipeline = await store.ensurePipeline('acme/web', '.github/sluice.yml');
    const disabled = { enabled: false, reason: 'freeze for the launch', actor: 'carol', at: 1_500 };
    await store.updatePipeline(pipeline, { actor: 'slack', now: 2_000 }, setTransition('production', disabled));

    let seen: unknown;
    await store.updatePipeline(pipeline, { actor: 'engine', now: 3_000 }, (snapshot) => {
      seen = structuredClone(snapshot.transitions);
      return { snapshot, changes: [], commands: [] };
    });
    assert.deepEqual(seen, { production: disabled });

    // A step that leaves transitions alone writes no audit row; enabling writes one.
    await store.updatePipeline(
      pipeline,
      { actor: 'slack', now: 4_000 },
      setTransition('production', { enabled: true }),
    );
    const audit = await place.peek('SELECT stage, enabled, reason, actor, at FROM transition_changes ORDER BY id');
    assert.deepEqual(audit, [
      { stage: 'production', enabled: 0, reason: 'freeze for the launch', actor: 'carol', at: 1_500 },
      { stage: 'production', enabled: 1, reason: null, actor: 'slack', at: 4_000 },
    ]);
  });

  it(`lets one step at a time see and write a pipeline${backend.replicas ? ', across replicas' : ''} (no lost update)`, async (t) => {
    const { store, open } = await fresh(t);
    const other = backend.replicas ? await open() : store;
    const { pipeline, execution } = await pushedExecution(store);

    const increments = 24;
    await Promise.all(
      Array.from({ length: increments }, (_, i) =>
        (i % 2 === 0 ? store : other).updatePipeline(
          pipeline,
          { actor: `worker-${i}`, now: 2_000 + i },
          bumpStageAttempt(execution.id, 'build'),
        ),
      ),
    );
    const saved = await store.getExecution(execution.id);
    const build = saved && findStageSummary(saved, 'build');
    assert.equal(build?.attempt, 1 + increments);
    const attempts = (await store.listHistory(execution.id)).filter((h) => h.entity === 'stage').map((h) => h.attempt);
    assert.deepEqual(
      attempts,
      Array.from({ length: increments }, (_, i) => i + 2),
    );
  });

  it(`gives concurrent new executions distinct numbers${backend.replicas ? ', across replicas' : ''}`, async (t) => {
    const { store, open } = await fresh(t);
    const other = backend.replicas ? await open() : store;
    const pipeline = await store.ensurePipeline('acme/web', '.github/sluice.yml');
    const created = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        (i % 2 === 0 ? store : other).createExecution(pushOf(pipeline, `sha${i}`), 'github', 1_000 + i),
      ),
    );
    assert.deepEqual(
      created.map((e) => e.seq).sort((a, b) => a - b),
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
  });

  it('refuses an execution whose definition or revision is damaged, naming it, and reads the others', async (t) => {
    const { store, place, open } = await fresh(t);
    const web = await store.ensurePipeline('acme/web', '.github/sluice.yml');
    const broken = await store.createExecution(pushOf(web, 'aaa'), 'github', 1_000);
    const torn = await store.createExecution(pushOf(web, 'bbb'), 'github', 2_000);
    const whole = await store.createExecution(pushOf(web, 'ccc'), 'github', 3_000);
    await store.close();
    await place.write(
      `UPDATE executions SET definition = '{"mode":"queued","stages":[{"name":"build","needs":[]}]}' WHERE id = '${broken.id}';
       UPDATE executions SET revision = '{"sha":' WHERE id = '${torn.id}'`,
    );
    const reopened = await open();
    await assert.rejects(
      reopened.getExecution(broken.id),
      corruptRow(
        new RegExp(
          `^The definition of execution ${broken.id} \\(#1 of acme/web\\) in the store cannot be read: it is not what Sluice writes there \\(stages\\.0\\.actions: .*expected array.*\\)\\. Restore the row from a backup\\.$`,
        ),
      ),
    );
    await assert.rejects(
      reopened.getExecution(torn.id),
      corruptRow(
        new RegExp(
          `^The revision of execution ${torn.id} \\(#2 of acme/web\\) in the store cannot be read: it is not JSON`,
        ),
      ),
    );
    assert.equal((await reopened.getExecution(whole.id))?.revision.sha, 'ccc');
  });
}
