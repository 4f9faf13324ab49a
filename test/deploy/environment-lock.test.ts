/**
 * The environment lock between attempts of one deploy action (PRODUCT S8):
 * a retry that starts while the first attempt is still alive and deploying
 * must wait for it, not be handed the lock because it is "the same action".
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ArtifactStore } from '../../src/artifact/artifact-store.ts';
import { environmentLockOwner, runDeployAction } from '../../src/deploy/run-deploy-action.ts';
import { findAction } from '../../src/pipeline/definition.ts';
import type { ActionRun } from '../../src/actions/action-runner.ts';
import { openStore } from '../../src/store/open-store.ts';
import { createTestExecution, localDeployDeps, packVersion, recordBuiltApp } from '../helpers/built-artifact.ts';
import { definitionOf } from '../helpers/pipeline-fixture.ts';

test('a retry racing a still-alive first attempt waits for its lock and deploys nothing while it runs', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'sluice-lock-'));
  const store = await openStore({ dataDir: join(root, 'data') });
  t.after(async () => {
    await store.close();
    rmSync(root, { recursive: true, force: true });
  });

  // The first attempt's start hook runs until the test lets it go.
  const gate = join(root, 'go');
  const definition = definitionOf('build-to-dev', (pipeline) => {
    pipeline.app = { hooks: { start: [`while [ ! -e ${gate} ]; do sleep 0.05; done`] } };
  });
  const ship = findAction(definition, 'dev', 'ship');
  assert.ok(ship?.kind === 'deploy');
  const spec = ship.deploy;
  const execution = await createTestExecution(store, definition);

  const artifacts = new ArtifactStore(join(root, 'artifacts'));
  await recordBuiltApp(store, artifacts, execution.id, packVersion(root, 'src', 'v1\n'), {
    stage: 'build',
    action: 'compile',
  });

  const deps = localDeployDeps(root, { store, artifacts, lockLeaseMs: 2_000, lockWaitMs: 1_500 });
  const { path } = deps;
  const attempt = (n: number, lines: string[]): ActionRun => ({
    execution,
    ref: { executionId: execution.id, stage: 'dev', action: 'ship', attempt: n },
    signal: new AbortController().signal,
    log: (text) => lines.push(text),
    claimOwner: 'replica-a',
  });

  const firstLines: string[] = [];
  let inStartHook!: () => void;
  const started = new Promise<void>((resolve) => (inStartHook = resolve));
  const first = runDeployAction(
    deps,
    { ...attempt(1, firstLines), log: (text) => (firstLines.push(text), text.includes('start: $') && inStartHook()) },
    spec,
  );
  await started;

  const secondLines: string[] = [];
  const second = await runDeployAction(deps, attempt(2, secondLines), spec);
  assert.equal(second.ok, false);
  assert.match(
    (second as { reason: string }).reason,
    /still locked by execution #1 of acme\/web \(dev\/ship, attempt 1 by replica-a\)/,
  );
  // The wait reads as every duration does: a lockWaitMs of 1_500 is "2s", not "0 min".
  assert.match((second as { reason: string }).reason, / after waiting 2s$/);
  assert.ok(
    secondLines.some((line) => /waiting for environment "dev": execution #1 .*attempt 1/.test(line)),
    secondLines.join('\n'),
  );
  assert.equal(
    readdirSync(join(path, 'releases')).length,
    1,
    'the retry made no release of its own while the first attempt ran',
  );

  writeFileSync(gate, '');
  assert.deepEqual(await first, { ok: true });
  assert.equal(
    await store.findLock('environment:dev', Date.now()),
    undefined,
    'the first attempt released the lock when it ended',
  );
});

test('the lock owner names the attempt and the process that claimed it', () => {
  const execution = { seq: 7, repo: 'acme/web' } as ActionRun['execution'];
  const ref = { executionId: 'e', stage: 'production', action: 'deploy', attempt: 1 };
  const one = environmentLockOwner({ execution, ref, claimOwner: 'replica-a' });
  const two = environmentLockOwner({ execution, ref: { ...ref, attempt: 2 }, claimOwner: 'replica-a' });
  const elsewhere = environmentLockOwner({ execution, ref, claimOwner: 'replica-b' });
  assert.equal(one, 'execution #7 of acme/web (production/deploy, attempt 1 by replica-a)');
  assert.notEqual(one, two);
  assert.notEqual(one, elsewhere);
});
