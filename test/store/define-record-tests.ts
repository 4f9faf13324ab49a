/** Store suite, part 2: logs, artifacts, listings, crash-recovery queries and reopening. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { findActionSummary } from '../../src/store/store.ts';
import { until } from '../helpers/until.ts';
import type { Fresh } from './define-store-suite.ts';
import { moveAction, moveExecution } from './fixtures/hand-made-steps.ts';
import { pushedExecution, pushOf } from './fixtures/two-stage-pipeline.ts';
import type { StoreBackend } from './store-backends.ts';

export function defineRecordTests(backend: StoreBackend, fresh: Fresh): void {
  it('reads back the log of each attempt of an action in the order it was appended', async (t) => {
    const { store } = await fresh(t);
    const { id } = (await pushedExecution(store)).execution;
    const first = { executionId: id, stage: 'build', action: 'compile', attempt: 1 };
    const second = { ...first, attempt: 2 };

    await store.appendLog(first, [
      { stream: 'sluice', text: '$ make', at: 10 },
      { stream: 'stdout', text: 'cc -o app main.c', at: 11 },
    ]);
    await store.appendLog(second, [{ stream: 'stdout', text: 'second try', at: 20 }]);
    await store.appendLog(first, [{ stream: 'stderr', text: 'main.c:3: error: expected ;', at: 12 }]);
    await store.appendLog(first, []);
    const many = Array.from({ length: 1_200 }, (_, i) => ({
      stream: 'stdout' as const,
      text: `line ${i}`,
      at: 30 + i,
    }));
    await store.appendLog(second, many);

    assert.deepEqual(await store.readLog(first), [
      { stream: 'sluice', text: '$ make', at: 10 },
      { stream: 'stdout', text: 'cc -o app main.c', at: 11 },
      { stream: 'stderr', text: 'main.c:3: error: expected ;', at: 12 },
    ]);
    assert.deepEqual(await store.readLog(second), [{ stream: 'stdout', text: 'second try', at: 20 }, ...many]);
    assert.deepEqual(await store.readLog({ ...first, action: 'other' }), []);
  });

  it('reads a log after a line number and a log tail, whichever attempt other lines interleave with', async (t) => {
    const { store } = await fresh(t);
    const { id } = (await pushedExecution(store)).execution;
    const mine = { executionId: id, stage: 'build', action: 'compile', attempt: 1 };
    const other = { ...mine, action: 'lint' };
    const lines = Array.from({ length: 1_234 }, (_, i) => ({
      stream: 'stdout' as const,
      text: `빌드 ${String(i).padStart(4, '0')} ━━ 🚀`,
      at: i,
    }));
    for (let i = 0; i < lines.length; i += 100) {
      await store.appendLog(mine, lines.slice(i, i + 100));
      await store.appendLog(other, [{ stream: 'stderr', text: `other ${i}`, at: i }]);
    }

    // A reader that pages through by the last number it has gets every line once, in order, and none of the other
    // action's.
    const read: string[] = [];
    let after = 0;
    for (;;) {
      const page = await store.readLogAfter(mine, after, 500);
      if (page.length === 0) break;
      assert.ok(page.length <= 500);
      assert.ok(
        page.every((line, i) => line.seq > (i === 0 ? after : page[i - 1]!.seq)),
        'numbers grow',
      );
      read.push(...page.map((line) => line.text));
      after = page.at(-1)!.seq;
    }
    assert.deepEqual(
      read,
      lines.map((line) => line.text),
    );
    assert.deepEqual(await store.readLogAfter(mine, after, 500), []);

    // The tail holds the newest lines that fill the bytes asked for, oldest of them first.
    const lineBytes = Buffer.byteLength(lines[0]!.text) + 1;
    const tail = await store.readLogTail(mine, 700 * lineBytes);
    assert.deepEqual(tail, lines.slice(-700));
    assert.deepEqual(await store.readLogTail(mine, 10 * lineBytes + 1), lines.slice(-11));
    assert.deepEqual(await store.readLogTail(mine, 10_000_000), lines);
    assert.deepEqual(await store.readLogTail({ ...mine, attempt: 2 }, 1_000), []);
  });

  if (backend.replicas) {
    it('never lets a reader by line number see a later line of a log before an earlier one still committing', async (t) => {
      const { store, place, open } = await fresh(t);
      const other = await open();
      const { id } = (await pushedExecution(store)).execution;
      const ref = { executionId: id, stage: 'build', action: 'compile', attempt: 1 };
      const seen = async () => (await store.readLogAfter(ref, 0, 500)).map((line) => line.text);

      // The first writer's line is numbered, and its transaction held open until the test lets it go.
      let commit!: () => void;
      const held = new Promise<void>((resolve) => (commit = resolve));
      let numbered!: () => void;
      const first = store.transaction(async (trx) => {
        await trx.appendLog(ref, [{ stream: 'stdout', text: 'line 1', at: 1 }]);
        numbered();
        await held;
      });
      await new Promise<void>((resolve) => (numbered = resolve));

      // A second writer, on another replica, appends the next line meanwhile: it waits for the first
      // (a session of the database waiting on the lock), or it is done.
      let secondDone = false;
      const second = other
        .appendLog(ref, [{ stream: 'stdout', text: 'line 2', at: 2 }])
        .then(() => (secondDone = true));
      try {
        await until('the second append is done or waits for the first', async () => {
          if (secondDone) return true;
          const waiting = await place.peek(
            "select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and wait_event = 'advisory'",
          );
          return (waiting[0]!.n as number) > 0 ? true : undefined;
        });
        assert.deepEqual(await seen(), [], 'line 2 is not visible while line 1 is still to commit');
      } finally {
        // A failure above still ends the first transaction, so the stores close.
        commit();
      }
      await Promise.all([first, second]);
      assert.deepEqual(await seen(), ['line 1', 'line 2']);
    });
  }

  it('records artifacts by name and digest, the latest record of a name winning', async (t) => {
    const { store } = await fresh(t);
    const { id } = (await pushedExecution(store)).execution;
    const artifact = {
      executionId: id,
      name: 'app',
      sha256: 'a'.repeat(64),
      size: 5_000_000_000,
      stage: 'build',
      action: 'compile',
      createdAt: 2_000,
    };

    await store.recordArtifact(artifact);
    assert.deepEqual(await store.findArtifact(id, 'app'), artifact);
    const rebuilt = { ...artifact, sha256: 'b'.repeat(64), size: 42, createdAt: 3_000 };
    await store.recordArtifact(rebuilt);
    assert.deepEqual(await store.findArtifact(id, 'app'), rebuilt);
    assert.equal(await store.findArtifact(id, 'docs'), undefined);
  });

  it('lists executions newest first, for one pipeline or all, up to a limit', async (t) => {
    const { store } = await fresh(t);
    const web = await store.ensurePipeline('acme/web', '.github/sluice.yml');
    const api = await store.ensurePipeline('acme/api', '.github/sluice.yml');
    await store.createExecution(pushOf(web, 'w1'), 'github', 1_000);
    await store.createExecution(pushOf(api, 'a1'), 'github', 2_000);
    await store.createExecution(pushOf(web, 'w2'), 'github', 3_000);
    await store.createExecution(pushOf(web, 'w3'), 'github', 3_000);

    const label = (e: { repo: string; seq: number; revision: { sha: string } }) =>
      `${e.repo}#${e.seq} ${e.revision.sha}`;
    assert.deepEqual((await store.listExecutions()).map(label), [
      'acme/web#3 w3',
      'acme/web#2 w2',
      'acme/api#1 a1',
      'acme/web#1 w1',
    ]);
    assert.deepEqual((await store.listExecutions({ pipelineId: web, limit: 2 })).map(label), [
      'acme/web#3 w3',
      'acme/web#2 w2',
    ]);
    assert.deepEqual((await store.listExecutions({ pipelineId: api })).map(label), ['acme/api#1 a1']);
  });

  it('finds the pipelines that have an action recorded as running, for crash recovery', async (t) => {
    const { store } = await fresh(t);
    const web = await store.ensurePipeline('acme/web', '.github/sluice.yml');
    const api = await store.ensurePipeline('acme/api', '.github/sluice.yml');
    const docs = await store.ensurePipeline('acme/docs', '.github/sluice.yml');
    const w = await store.createExecution(pushOf(web), 'github', 1_000);
    const a = await store.createExecution(pushOf(api), 'github', 1_000);
    await store.createExecution(pushOf(docs), 'github', 1_000);
    assert.deepEqual(await store.listPipelinesWithRunningActions(), []);

    await store.updatePipeline(web, { actor: 'engine', now: 2_000 }, moveAction(w.id, 'build', 'compile', 'running'));
    await store.updatePipeline(api, { actor: 'engine', now: 2_000 }, moveAction(a.id, 'build', 'compile', 'running'));
    await store.updatePipeline(api, { actor: 'engine', now: 3_000 }, moveAction(a.id, 'build', 'compile', 'succeeded'));
    assert.deepEqual(await store.listPipelinesWithRunningActions(), [web]);
  });

  it('finds the pipelines with an approval gate open in a running execution, for expiry', async (t) => {
    const { store } = await fresh(t);
    const web = await store.ensurePipeline('acme/web', '.github/sluice.yml');
    const api = await store.ensurePipeline('acme/api', '.github/sluice.yml');
    const w = await store.createExecution(pushOf(web), 'github', 1_000);
    const a = await store.createExecution(pushOf(api), 'github', 1_000);
    assert.deepEqual(await store.listPipelinesAwaitingApproval(), []);

    await store.updatePipeline(
      web,
      { actor: 'engine', now: 2_000 },
      moveAction(w.id, 'production', 'approve', 'awaiting_approval'),
    );
    await store.updatePipeline(
      api,
      { actor: 'engine', now: 2_000 },
      moveAction(a.id, 'production', 'approve', 'awaiting_approval'),
    );
    await store.updatePipeline(
      api,
      { actor: 'alice', now: 3_000 },
      moveExecution(a.id, 'cancelled', 'cancelled by alice'),
    );
    assert.deepEqual(await store.listPipelinesAwaitingApproval(), [web]);
    const saved = await store.getExecution(w.id);
    const gate = saved && findActionSummary(saved, 'production', 'approve');
    assert.equal(gate?.startedAt, 2_000, 'an open gate keeps when it opened');
  });

  it('lists pipelines by repository and file, all of them or one repository’s', async (t) => {
    const { store } = await fresh(t);
    const web = await store.ensurePipeline('acme/web', '.github/sluice.yml');
    const api = await store.ensurePipeline('acme/api', '.github/sluice.yml');
    assert.deepEqual(await store.listPipelines(), [
      { id: api, repo: 'acme/api', file: '.github/sluice.yml' },
      { id: web, repo: 'acme/web', file: '.github/sluice.yml' },
    ]);
    assert.deepEqual(await store.listPipelines('acme/web'), [
      { id: web, repo: 'acme/web', file: '.github/sluice.yml' },
    ]);
    assert.deepEqual(await store.listPipelines('acme/none'), []);
  });

  it('keeps everything across close and reopen', async (t) => {
    const { store, open } = await fresh(t);
    const { pipeline, execution } = await pushedExecution(store);
    await store.updatePipeline(
      pipeline,
      { actor: 'engine', now: 2_000 },
      moveAction(execution.id, 'build', 'compile', 'running'),
    );
    await store.updatePipeline(
      pipeline,
      { actor: 'alice', now: 3_000 },
      moveExecution(execution.id, 'cancelled', 'cancelled by alice'),
    );
    await store.appendLog({ executionId: execution.id, stage: 'build', action: 'compile', attempt: 1 }, [
      { stream: 'stdout', text: 'hi', at: 5 },
    ]);
    const before = {
      execution: await store.getExecution(execution.id),
      history: await store.listHistory(execution.id),
    };
    await store.close();

    const reopened = await open();
    assert.equal(await reopened.ensurePipeline('acme/web', '.github/sluice.yml'), pipeline);
    assert.deepEqual(await reopened.getExecution(execution.id), before.execution);
    assert.deepEqual(await reopened.listHistory(execution.id), before.history);
    assert.deepEqual(
      await reopened.readLog({ executionId: execution.id, stage: 'build', action: 'compile', attempt: 1 }),
      [{ stream: 'stdout', text: 'hi', at: 5 }],
    );
    assert.equal((await reopened.createExecution(pushOf(pipeline), 'github', 4_000)).seq, 2);
  });
}
