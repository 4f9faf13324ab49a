/**
 * Store suite: every pipeline's newest execution in one listing
 * (`/sluice status`), which must be what each pipeline's own listing gives
 * first, whatever happened to its executions.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Store } from '../../src/store/store.ts';
import type { Fresh } from './define-store-suite.ts';
import { moveAction, moveExecution } from './fixtures/hand-made-steps.ts';
import { pushOf } from './fixtures/two-stage-pipeline.ts';
import type { StoreBackend } from './store-backends.ts';

/**
 * `#seq status` of each pipeline's newest, as the one listing gives them, after checking it against each
 * pipeline's own (its first not superseded, or its first) and against the newest of that pipeline alone.
 */
async function newest(store: Store, pipelines = 30): Promise<string[]> {
  const listed = await store.listNewestExecutions({ pipelines });
  const expected = [];
  for (const pipeline of (await store.listPipelines()).slice(0, pipelines)) {
    const own = await store.listExecutions({ pipelineId: pipeline.id, limit: 100 });
    const first = own.find((e) => e.status !== 'superseded') ?? own[0];
    assert.deepEqual(await store.getNewestExecution(pipeline.id), first, `the newest of ${pipeline.repo} alone`);
    if (first) expected.push(first);
  }
  assert.deepEqual(listed, expected, "each pipeline's newest, as its own listing gives it first");
  return listed.map((e) => `${e.repo} #${e.seq} ${e.status}`);
}

export function defineNewestTests(backend: StoreBackend, fresh: Fresh): void {
  it("lists each pipeline's newest execution through supersede, cancel, rerun, an earlier clock and retention", async (t) => {
    const { store } = await fresh(t);
    const web = await store.ensurePipeline('acme/web', '.github/sluice.yml');
    await store.ensurePipeline('acme/docs', '.github/sluice.yml');
    const api = await store.ensurePipeline('acme/api', '.github/sluice.yml');
    assert.deepEqual(await newest(store), [], 'no executions yet');

    const web1 = await store.createExecution(pushOf(web, 'aaa'), 'github', 1_000);
    const api1 = await store.createExecution(pushOf(api, 'bbb'), 'github', 1_100);
    assert.deepEqual(await newest(store), ['acme/api #1 running', 'acme/web #1 running']);

    // A second push supersedes the first; then it is cancelled.
    const web2 = await store.createExecution(pushOf(web, 'ccc'), 'github', 2_000);
    await store.updatePipeline(web, { actor: 'engine', now: 2_001 }, moveExecution(web1.id, 'superseded'));
    assert.deepEqual(await newest(store), ['acme/api #1 running', 'acme/web #2 running']);
    await store.updatePipeline(web, { actor: 'alice', now: 2_500 }, moveExecution(web2.id, 'cancelled', 'by alice'));
    const [, cancelled] = await store.listNewestExecutions({ pipelines: 30 });
    assert.equal(cancelled?.reason, 'by alice');
    assert.deepEqual(await newest(store), ['acme/api #1 running', 'acme/web #2 cancelled']);

    // A rerun of the first is the newest.
    const web3 = await store.createExecution(
      { ...pushOf(web, 'aaa'), trigger: 'rerun of #1 by alice', rerunOf: web1.id },
      'alice',
      3_000,
    );
    const [, rerun] = await store.listNewestExecutions({ pipelines: 30 });
    assert.equal(rerun?.rerunOf, web1.id);
    assert.deepEqual(await newest(store), ['acme/api #1 running', 'acme/web #3 running']);

    // One created by a replica whose clock is behind is listed after the others, so it is not the newest.
    const web4 = await store.createExecution(pushOf(web, 'ddd'), 'github', 2_900);
    assert.deepEqual(await newest(store), ['acme/api #1 running', 'acme/web #3 running']);

    // Only the first pipelines (by repo), those without executions skipped.
    assert.deepEqual(await newest(store, 2), ['acme/api #1 running']);
    assert.deepEqual(await newest(store, 1), ['acme/api #1 running']);

    // Retention deletes the newest: the newest left takes its place; all of a pipeline's: it has none.
    for (const id of [web3.id, web4.id, api1.id])
      await store.updatePipeline(
        id === api1.id ? api : web,
        { actor: 'engine', now: 4_000 },
        moveExecution(id, 'succeeded'),
      );
    assert.equal(await store.deleteExecutions([web3.id]), 1);
    assert.deepEqual(await newest(store), ['acme/api #1 succeeded', 'acme/web #4 succeeded']);
    assert.equal(await store.deleteExecutions([web4.id, api1.id]), 2);
    assert.deepEqual(await newest(store), ['acme/web #2 cancelled']);
    assert.equal(await store.deleteExecutions([web1.id, web2.id]), 2);
    assert.deepEqual(await newest(store), []);

    // A pipeline emptied by retention gets its next execution as the newest.
    await store.createExecution(pushOf(web, 'eee'), 'github', 5_000);
    assert.deepEqual(await newest(store), ['acme/web #5 running']);

    // An older push delivered late is created superseded: the pipeline still stands at the one before it.
    await store.createExecution(
      { ...pushOf(web, 'ddd'), supersededIf: async () => 'superseded by eee' },
      'github',
      6_000,
    );
    assert.deepEqual(await newest(store), ['acme/web #5 running']);
    assert.equal((await store.listExecutions({ pipelineId: web, limit: 1 }))[0]?.seq, 6, 'listed first all the same');
  });

  it(`lists an execution in its new state once it changed, never as it was listed before${backend.replicas ? ', whichever replica changed it' : ''}`, async (t) => {
    const { store, open } = await fresh(t);
    const web = await store.ensurePipeline('acme/web', '.github/sluice.yml');
    const api = await store.ensurePipeline('acme/api', '.github/sluice.yml');
    const web1 = await store.createExecution(pushOf(web, 'aaa'), 'github', 1_000);
    await store.createExecution(pushOf(api, 'bbb'), 'github', 1_100);
    /** `repo #seq status: stage action status, …` of each listed, checked against the execution read alone. */
    const listed = async (): Promise<string[]> => {
      const newest = await store.listNewestExecutions({ pipelines: 30 });
      for (const e of newest)
        assert.deepEqual(e, await store.getExecution(e.id), `#${e.seq} of ${e.repo} as read alone`);
      return newest.map(
        (e) =>
          `${e.repo} #${e.seq} ${e.status}${e.reason ? ` (${e.reason})` : ''}: ` +
          e.stages.flatMap((s) => s.actions.map((a) => `${s.name} ${a.name} ${a.status}`)).join(', '),
      );
    };
    const pending = 'build compile pending, production approve pending, production deploy pending';
    assert.deepEqual(await listed(), [`acme/api #1 running: ${pending}`, `acme/web #1 running: ${pending}`]);
    assert.deepEqual(await listed(), [`acme/api #1 running: ${pending}`, `acme/web #1 running: ${pending}`], 'again');

    await store.updatePipeline(
      web,
      { actor: 'engine', now: 2_000 },
      moveAction(web1.id, 'build', 'compile', 'running'),
    );
    const compiling = 'build compile running, production approve pending, production deploy pending';
    assert.deepEqual(await listed(), [`acme/api #1 running: ${pending}`, `acme/web #1 running: ${compiling}`]);

    // Shared between readers, so no reader can change what the next one is shown.
    const [, shown] = await store.listNewestExecutions({ pipelines: 30 });
    assert.throws(() => {
      shown!.stages[0]!.status = 'failed';
    }, TypeError);
    assert.throws(() => {
      shown!.stages[0]!.actions.push({ name: 'lint', status: 'pending', attempt: 1 });
    }, TypeError);
    assert.deepEqual(await listed(), [`acme/api #1 running: ${pending}`, `acme/web #1 running: ${compiling}`]);

    // Changed by another replica on the same database (or by this store where there is only one).
    const other = backend.replicas ? await open() : store;
    await other.updatePipeline(web, { actor: 'engine', now: 3_000 }, moveAction(web1.id, 'build', 'compile', 'failed'));
    const failed = 'build compile failed, production approve pending, production deploy pending';
    assert.deepEqual(await listed(), [`acme/api #1 running: ${pending}`, `acme/web #1 running: ${failed}`]);
    await other.updatePipeline(web, { actor: 'bob', now: 3_500 }, moveExecution(web1.id, 'cancelled', 'by bob'));
    assert.deepEqual(await listed(), [`acme/api #1 running: ${pending}`, `acme/web #1 cancelled (by bob): ${failed}`]);
    await other.createExecution(pushOf(web, 'ccc'), 'github', 4_000);
    assert.deepEqual(await listed(), [`acme/api #1 running: ${pending}`, `acme/web #2 running: ${pending}`]);
  });

  it("fills each pipeline's newest execution when a store made before it kept one is opened", async (t) => {
    const { store, place, open } = await fresh(t);
    const web = await store.ensurePipeline('acme/web', '.github/sluice.yml');
    const api = await store.ensurePipeline('acme/api', '.github/sluice.yml');
    await store.ensurePipeline('acme/docs', '.github/sluice.yml');
    await store.createExecution(pushOf(web, 'aaa'), 'github', 1_000);
    await store.createExecution(pushOf(web, 'bbb'), 'github', 2_000);
    await store.createExecution(pushOf(web, 'ccc'), 'github', 1_500); // an earlier clock
    await store.createExecution(pushOf(api, 'ddd'), 'github', 1_000);
    await store.close();
    // The store as the schema before this column left it (and so before the migrations after it).
    await place.write(
      'CREATE INDEX executions_pipeline_status ON executions (pipeline_id, status); DROP INDEX executions_pipeline_status_seq; ' +
        'ALTER TABLE executions DROP COLUMN version; ALTER TABLE pipelines DROP COLUMN newest_execution_id; ' +
        "DELETE FROM sluice_migration WHERE name IN ('0008-newest-execution', '0009-execution-versions', '0010-snapshot-index')",
    );
    assert.deepEqual(
      (await place.peek("SELECT name FROM sluice_migration WHERE name = '0008-newest-execution'")).length,
      0,
    );

    const reopened = await open();
    assert.deepEqual(await newest(reopened), ['acme/api #1 running', 'acme/web #2 running']);
    const rows = await place.peek('SELECT repo, newest_execution_id FROM pipelines ORDER BY repo');
    assert.deepEqual(
      rows.map((r) => [r.repo, r.newest_execution_id === null]),
      [
        ['acme/api', false],
        ['acme/docs', true],
        ['acme/web', false],
      ],
    );
  });
}
