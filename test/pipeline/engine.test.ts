import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EngineError, step } from '../../src/pipeline/engine.ts';
import { EngineHarness, pipeline } from '../helpers/engine-harness.ts';

const seedPipeline = (mode: 'superseded' | 'queued' = 'superseded') =>
  pipeline(
    {
      build: ['sample-build'],
      dev: ['dev-deploy'],
      production: ['approve', { name: 'real-deploy', needs: ['approve'] }],
    },
    { mode },
  );

/** What the seed pipeline's execution shows while production's approval waits. */
const AT_THE_GATE =
  'running · build:succeeded dev:succeeded production:running(approve:awaiting_approval,real-deploy:pending)';

/** A new execution of the seed pipeline, built and deployed to dev: at production's approval. */
function pushToTheGate(h: EngineHarness, sha?: string): string {
  const e = h.push(sha);
  h.finish(e, 'build/sample-build');
  h.finish(e, 'dev/dev-deploy');
  return e;
}

/** Someone decides production's approval. */
function decide(h: EngineHarness, e: string, decision: { approved: boolean; by: string; comment?: string }) {
  return h.send({ type: 'approval_decided', executionId: e, stage: 'production', action: 'approve', ...decision });
}

/** Production's approval (attempt `attempt`) expires after 24 h. */
function expire(h: EngineHarness, e: string, attempt: number) {
  return h.send({
    type: 'approval_expired',
    executionId: e,
    stage: 'production',
    action: 'approve',
    attempt,
    after: '24 h',
  });
}

describe('a pipeline run', () => {
  test('goes build → dev → approval → production and succeeds', () => {
    const h = new EngineHarness(seedPipeline());
    const e = h.push();
    assert.deepEqual(h.started(), ['e1 build/sample-build']);
    h.finish(e, 'build/sample-build');
    assert.deepEqual(h.started().at(-1), 'e1 dev/dev-deploy');
    h.finish(e, 'dev/dev-deploy');
    assert.equal(h.status(e), AT_THE_GATE);
    assert.deepEqual(h.commands.at(-1), {
      type: 'request_approval',
      executionId: e,
      stage: 'production',
      action: 'approve',
      attempt: 1,
    });
    decide(h, e, { approved: true, by: 'alice' });
    assert.deepEqual(h.started().at(-1), 'e1 production/real-deploy');
    h.finish(e, 'production/real-deploy');
    assert.equal(h.status(e), 'succeeded · build:succeeded dev:succeeded production:succeeded');
    assert.equal(h.execution(e).stages.production!.actions.approve!.reason, 'approved by alice');
  });

  test('runs the actions of a stage in parallel unless needs orders them', () => {
    const h = new EngineHarness(pipeline({ test: ['unit', 'lint', { name: 'report', needs: ['unit', 'lint'] }] }));
    const e = h.push();
    assert.deepEqual(h.started(), ['e1 test/unit', 'e1 test/lint']);
    h.finish(e, 'test/unit');
    assert.deepEqual(h.started(), ['e1 test/unit', 'e1 test/lint']);
    h.finish(e, 'test/lint');
    assert.deepEqual(h.started(), ['e1 test/unit', 'e1 test/lint', 'e1 test/report']);
  });

  test('runs stages of a DAG side by side and joins them', () => {
    const h = new EngineHarness(
      pipeline(
        { build: ['b'], docs: ['d'], image: ['i'], ship: ['s'] },
        { needs: { docs: ['build'], image: ['build'], ship: ['docs', 'image'] } },
      ),
    );
    const e = h.push();
    h.finish(e, 'build/b');
    assert.deepEqual(h.started(), ['e1 build/b', 'e1 docs/d', 'e1 image/i']);
    h.finish(e, 'docs/d');
    assert.equal(h.status(e), 'running · build:succeeded docs:succeeded image:running(i:running) ship:pending');
    h.finish(e, 'image/i');
    assert.deepEqual(h.started().at(-1), 'e1 ship/s');
  });
});

describe('a failure', () => {
  test('halts the execution: the stage fails and later stages never start', () => {
    const h = new EngineHarness(seedPipeline());
    const e = h.push();
    h.finish(e, 'build/sample-build', 'command 2 of 3 "npm test" exited with code 1');
    assert.equal(h.status(e), 'failed · build:failed(sample-build:failed) dev:pending production:pending');
    assert.equal(
      h.execution(e).reason,
      'stage "build" failed: action "sample-build" failed: command 2 of 3 "npm test" exited with code 1',
    );
    assert.deepEqual(h.started(), ['e1 build/sample-build']);
  });

  test('lets running siblings finish, but starts nothing new', () => {
    const h = new EngineHarness(pipeline({ test: ['unit', 'lint', { name: 'report', needs: ['unit'] }] }));
    const e = h.push();
    h.finish(e, 'test/lint', 'exit 1');
    assert.equal(h.status(e), 'running · test:running(unit:running,lint:failed,report:pending)');
    h.finish(e, 'test/unit');
    assert.equal(h.status(e), 'failed · test:failed(unit:succeeded,lint:failed,report:pending)');
    assert.deepEqual(h.started(), ['e1 test/unit', 'e1 test/lint']);
  });

  test('retry of the failed stage runs only that stage onward, keeping what succeeded', () => {
    const h = new EngineHarness(pipeline({ build: ['compile'], test: ['unit', 'lint'], deploy: ['ship'] }));
    const e = h.push();
    h.finish(e, 'build/compile');
    h.finish(e, 'test/unit');
    h.finish(e, 'test/lint', 'exit 1');
    assert.equal(h.execution(e).status, 'failed');
    h.send({ type: 'retry_stage', executionId: e, stage: 'test', by: 'bob' });
    assert.deepEqual(h.started(), ['e1 build/compile', 'e1 test/unit', 'e1 test/lint', 'e1 test/lint #2']);
    h.finish(e, 'test/lint');
    assert.deepEqual(h.started().at(-1), 'e1 deploy/ship');
    h.finish(e, 'deploy/ship');
    assert.equal(h.status(e), 'succeeded · build:succeeded test:succeeded deploy:succeeded');
    assert.equal(h.execution(e).stages.test!.attempt, 2);
  });

  test('retry is refused for a stage that did not fail', () => {
    const h = new EngineHarness(seedPipeline());
    const e = h.push();
    h.finish(e, 'build/sample-build');
    assert.throws(
      () => h.send({ type: 'retry_stage', executionId: e, stage: 'build', by: 'bob' }),
      (err: unknown) =>
        err instanceof EngineError &&
        err.code === 'NOT_RETRYABLE' &&
        /only a failed, interrupted or cancelled stage/.test(err.message),
    );
    assert.throws(
      () => h.send({ type: 'retry_stage', executionId: e, stage: 'nope', by: 'bob' }),
      /has no stage "nope" \(its stages: build, dev, production\)/,
    );
  });

  test('a result for an older attempt changes nothing', () => {
    const h = new EngineHarness(pipeline({ build: ['compile'] }));
    const e = h.push();
    h.finish(e, 'build/compile', 'boom');
    h.send({ type: 'retry_stage', executionId: e, stage: 'build', by: 'bob' });
    h.send({ type: 'action_failed', executionId: e, stage: 'build', action: 'compile', attempt: 1, reason: 'late' });
    assert.equal(h.status(e), 'running · build:running(compile:running)');
  });
});

describe('approval gates', () => {
  for (const { name, end, why } of [
    {
      name: 'a rejection fails the stage and nothing is deployed',
      end: (h: EngineHarness, e: string) => decide(h, e, { approved: false, by: 'carol', comment: 'not today' }),
      why: 'rejected by carol: not today',
    },
    {
      name: 'an approval nobody decides in time expires: the stage fails and nothing is deployed',
      end: (h: EngineHarness, e: string) => expire(h, e, 1),
      why: 'expired: nobody decided within 24 h',
    },
  ]) {
    test(name, () => {
      const h = new EngineHarness(seedPipeline());
      const e = pushToTheGate(h);
      end(h, e);
      assert.equal(
        h.status(e),
        'failed · build:succeeded dev:succeeded production:failed(approve:failed,real-deploy:pending)',
      );
      assert.equal(h.execution(e).reason, `stage "production" failed: action "approve" failed: ${why}`);
      assert.ok(!h.started().includes('e1 production/real-deploy'));
    });
  }

  test('only the first of two decisions counts; the second is told why', () => {
    const h = new EngineHarness(seedPipeline());
    const e = pushToTheGate(h);
    decide(h, e, { approved: true, by: 'alice' });
    assert.throws(
      () => decide(h, e, { approved: false, by: 'bob' }),
      (err: unknown) =>
        err instanceof EngineError &&
        err.code === 'GATE_CLOSED' &&
        err.message === 'This approval is no longer open: it is succeeded (approved by alice).',
    );
  });

  test('an expiry that comes after a decision, or for an older gate, changes nothing', () => {
    const h = new EngineHarness(seedPipeline());
    const e = pushToTheGate(h);
    expire(h, e, 2);
    assert.equal(h.status(e), AT_THE_GATE);
    decide(h, e, { approved: true, by: 'alice' });
    expire(h, e, 1);
    assert.equal(
      h.status(e),
      'running · build:succeeded dev:succeeded production:running(approve:succeeded,real-deploy:running)',
    );
  });

  test('a newer revision reaching the gate supersedes the waiting approval', () => {
    const h = new EngineHarness(seedPipeline());
    const a = pushToTheGate(h, 'aaaaaaa');
    const b = pushToTheGate(h, 'bbbbbbb');
    assert.equal(h.status(a), 'superseded · build:succeeded dev:succeeded production:superseded');
    assert.equal(h.execution(a).reason, 'superseded by execution #2 (bbbbbbb)');
    assert.deepEqual(
      h.commands.filter((c) => c.type === 'withdraw_approval').map((c) => c.executionId),
      ['e1'],
    );
    assert.equal(h.status(b), AT_THE_GATE);
  });
});

describe('two revisions racing for a stage', () => {
  const race = (mode: 'superseded' | 'queued') => {
    const h = new EngineHarness(pipeline({ build: ['compile'], dev: ['deploy'] }, { mode }));
    h.send({ type: 'set_transition', stage: 'dev', enabled: false, reason: 'freeze', by: 'ops' });
    const a = h.push();
    h.finish(a, 'build/compile');
    const b = h.push();
    h.finish(b, 'build/compile');
    return { h, a, b };
  };

  test('in superseded mode the older one ends superseded and the newer one runs', () => {
    const { h, a, b } = race('superseded');
    assert.equal(h.status(a), 'superseded · build:succeeded dev:superseded');
    assert.equal(h.status(b), 'running · build:succeeded dev:waiting');
    h.send({ type: 'set_transition', stage: 'dev', enabled: true, by: 'ops' });
    h.finish(b, 'dev/deploy');
    assert.equal(h.status(b), 'succeeded · build:succeeded dev:succeeded');
    assert.deepEqual(h.started(), ['e1 build/compile', 'e2 build/compile', 'e2 dev/deploy']);
  });

  test('in queued mode both run, in the order they arrived', () => {
    const { h, a, b } = race('queued');
    assert.equal(h.status(a), 'running · build:succeeded dev:waiting');
    assert.equal(h.status(b), 'running · build:succeeded dev:waiting');
    h.send({ type: 'set_transition', stage: 'dev', enabled: true, by: 'ops' });
    assert.equal(h.status(b), 'running · build:succeeded dev:waiting');
    h.finish(a, 'dev/deploy');
    h.finish(b, 'dev/deploy');
    assert.deepEqual(h.started(), ['e1 build/compile', 'e2 build/compile', 'e1 dev/deploy', 'e2 dev/deploy']);
    assert.equal(h.execution(a).status, 'succeeded');
    assert.equal(h.execution(b).status, 'succeeded');
  });

  test('a stage holds one execution: a newer one waits for the first stage, then the newest waiting wins', () => {
    const h = new EngineHarness(pipeline({ build: ['compile'], dev: ['deploy'] }));
    const a = h.push();
    const b = h.push();
    const c = h.push();
    assert.equal(h.status(b), 'superseded · build:superseded dev:pending');
    assert.equal(h.status(c), 'running · build:waiting dev:pending');
    h.finish(a, 'build/compile');
    assert.equal(h.status(c), 'running · build:running(compile:running) dev:pending');
    assert.equal(h.status(a), 'running · build:succeeded dev:running(deploy:running)');
  });
});

describe('transitions', () => {
  test('a disabled transition holds an execution and releases it on enable', () => {
    const h = new EngineHarness(seedPipeline());
    h.send({ type: 'set_transition', stage: 'dev', enabled: false, reason: 'db migration', by: 'ops' });
    const e = h.push();
    h.finish(e, 'build/sample-build');
    assert.equal(h.status(e), 'running · build:succeeded dev:waiting production:pending');
    assert.equal(h.execution(e).stages.dev!.reason, 'the transition into "dev" is disabled: db migration');
    assert.deepEqual(h.snapshot.transitions.dev, { enabled: false, reason: 'db migration', actor: 'ops', at: 1001 });
    h.send({ type: 'set_transition', stage: 'dev', enabled: true, by: 'ops' });
    assert.equal(h.status(e), 'running · build:succeeded dev:running(dev-deploy:running) production:pending');
  });
});

describe('cancel and crashes', () => {
  test('cancel stops running actions, which end cancelled when they report how they stopped', () => {
    const h = new EngineHarness(seedPipeline());
    const e = h.push();
    const commands = h.send({ type: 'cancel_execution', executionId: e, by: 'alice' });
    assert.deepEqual(commands, [{ type: 'abort', executionId: e, stage: 'build', action: 'sample-build', attempt: 1 }]);
    assert.equal(
      h.status(e),
      'cancelled · build:running(sample-build:running) dev:pending production:pending',
      'still stopping',
    );
    assert.throws(
      () => h.send({ type: 'retry_stage', executionId: e, stage: 'build', by: 'bob' }),
      /Stage "build" of execution #1 is running/,
    );
    h.send({
      type: 'action_failed',
      executionId: e,
      stage: 'build',
      action: 'sample-build',
      attempt: 1,
      reason: 'rolled back host2',
    });
    assert.equal(h.status(e), 'cancelled · build:cancelled dev:pending production:pending');
    assert.equal(h.execution(e).stages.build!.actions['sample-build']!.reason, 'cancelled by alice; rolled back host2');
    assert.equal(
      h.execution(e).stages.build!.reason,
      'action "sample-build" cancelled: cancelled by alice; rolled back host2',
    );
    assert.throws(() => h.send({ type: 'cancel_execution', executionId: e, by: 'alice' }), /already cancelled/);
  });

  test('an action the cancel reached too late keeps its success; one whose process died meanwhile is interrupted', () => {
    const late = new EngineHarness(seedPipeline());
    const e = late.push();
    late.send({ type: 'cancel_execution', executionId: e, by: 'alice' });
    late.finish(e, 'build/sample-build');
    assert.equal(late.status(e), 'cancelled · build:succeeded dev:pending production:pending');

    const crash = new EngineHarness(seedPipeline());
    const c = crash.push();
    crash.send({ type: 'cancel_execution', executionId: c, by: 'alice' });
    crash.send({ type: 'interrupt_running', reason: 'Sluice stopped while it ran' });
    assert.equal(crash.status(c), 'cancelled · build:interrupted dev:pending production:pending');
    crash.send({ type: 'retry_stage', executionId: c, stage: 'build', by: 'bob' });
    assert.equal(crash.status(c), 'running · build:running(sample-build:running) dev:pending production:pending');
  });

  test('after a crash, running actions are interrupted and can be retried; open approvals stay open', () => {
    const h = new EngineHarness(pipeline({ build: ['compile'] }));
    const gate = new EngineHarness(seedPipeline());
    const e = h.push();
    h.send({ type: 'interrupt_running', reason: 'Sluice stopped while it ran' });
    assert.equal(h.status(e), 'interrupted · build:interrupted');
    h.send({ type: 'retry_stage', executionId: e, stage: 'build', by: 'ops' });
    assert.equal(h.status(e), 'running · build:running(compile:running)');

    const g = pushToTheGate(gate);
    gate.send({ type: 'interrupt_running', reason: 'Sluice stopped while it ran' });
    assert.equal(gate.status(g), AT_THE_GATE);
  });

  test('one running action whose process is gone is interrupted; its siblings and other executions go on', () => {
    const h = new EngineHarness(pipeline({ build: ['compile', 'lint'] }));
    const a = h.push();
    const b = h.push();
    const compile = { executionId: a, stage: 'build', action: 'compile', attempt: 1 };
    h.send({ type: 'interrupt_action', ...compile, reason: 'its replica stopped answering' });
    assert.equal(h.status(a), 'running · build:running(compile:interrupted,lint:running)');
    h.finish(a, 'build/lint');
    assert.equal(h.status(a), 'interrupted · build:interrupted');
    assert.equal(h.execution(a).stages.build!.actions.lint!.status, 'succeeded', 'the sibling finished');
    assert.equal(h.execution(a).stages.build!.actions.compile!.reason, 'its replica stopped answering');
    h.send({ type: 'interrupt_action', ...compile, reason: 'again' });
    assert.equal(
      h.execution(a).stages.build!.actions.compile!.reason,
      'its replica stopped answering',
      'a second interrupt changes nothing',
    );
    // Its process was alive after all: what it reports as it stops is added to the reason, and nothing else moves.
    h.send({ type: 'action_failed', ...compile, reason: 'rolled back host2' });
    assert.equal(
      h.execution(a).stages.build!.actions.compile!.reason,
      'its replica stopped answering; its process was still running it, and stopped it: rolled back host2',
    );
    assert.equal(h.status(a), 'interrupted · build:interrupted');
    assert.match(h.status(b), /^running · build:running/);
  });

  test('recovery with hold records the interruption but starts nothing new', () => {
    const h = new EngineHarness(pipeline({ build: ['compile'] }, { mode: 'queued' }));
    const a = h.push();
    const b = h.push();
    assert.equal(h.status(b), 'running · build:waiting');
    const result = step(h.snapshot, { type: 'interrupt_running', reason: 'crash' }, 5_000, { hold: true });
    h.snapshot = result.snapshot;
    assert.deepEqual(result.commands, []);
    assert.equal(h.status(a), 'interrupted · build:interrupted');
    assert.equal(h.status(b), 'running · build:waiting');
    h.send({ type: 'tick' });
    assert.equal(h.status(b), 'running · build:running(compile:running)');
  });

  test('every change is recorded in order', () => {
    const h = new EngineHarness(pipeline({ build: ['compile'] }));
    const e = h.push();
    h.finish(e, 'build/compile');
    assert.deepEqual(
      h.changes.map(
        (c) => `${c.entity}${c.stage ? ` ${c.stage}` : ''}${c.action ? `/${c.action}` : ''}: ${c.from} → ${c.to}`,
      ),
      [
        'stage build: pending → running',
        'action build/compile: pending → running',
        'action build/compile: running → succeeded',
        'stage build: running → succeeded',
        'execution: running → succeeded',
      ],
    );
  });
});
