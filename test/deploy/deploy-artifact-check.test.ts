/**
 * What a deploy reads of the stored artifact before any host sees it: its
 * bytes against the digest recorded at build time (PRODUCT P4) and its
 * listing (check-archive.ts). A stored file
 * whose bytes changed is refused as changed, even when it is a safe archive.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ArtifactStore } from '../../src/artifact/artifact-store.ts';
import { runDeployAction } from '../../src/deploy/run-deploy-action.ts';
import type { PipelineDefinition } from '../../src/pipeline/definition.ts';
import { openStore } from '../../src/store/open-store.ts';
import { createTestExecution, localDeployDeps, packVersion, recordBuiltApp } from '../helpers/built-artifact.ts';

async function deployStored(t: { after(fn: () => Promise<void>): void }, tampered = false) {
  const root = mkdtempSync(join(tmpdir(), 'sluice-deploy-check-'));
  const store = await openStore({ dataDir: join(root, 'data') });
  t.after(async () => {
    await store.close();
    rmSync(root, { recursive: true, force: true });
  });
  const spec = { environment: 'dev', artifact: 'app' };
  const definition: PipelineDefinition = {
    mode: 'superseded',
    stages: [{ name: 'dev', needs: [], actions: [{ name: 'deploy', needs: [], kind: 'deploy', deploy: spec }] }],
  };
  const execution = await createTestExecution(store, definition);
  const artifacts = new ArtifactStore(join(root, 'artifacts'));
  const stored = await recordBuiltApp(store, artifacts, execution.id, packVersion(root, 'v1', 'v1\n'), {
    stage: 'dev',
    action: 'deploy',
  });
  // Another archive, safe as well, under the first one's digest.
  if (tampered) copyFileSync(packVersion(root, 'v2', 'v2, not what was built\n'), stored.path);
  const deps = localDeployDeps(root, { store, artifacts });
  const { path } = deps;
  const outcome = await runDeployAction(
    deps,
    {
      execution,
      ref: { executionId: execution.id, stage: 'dev', action: 'deploy', attempt: 1 },
      signal: new AbortController().signal,
      log: () => {},
    },
    spec,
  );
  const releases = existsSync(join(path, 'releases')) ? readdirSync(join(path, 'releases')) : [];
  return { outcome, releases, sha256: stored.sha256 };
}

test('a stored artifact that matches its digest and passes the check is deployed', async (t) => {
  const { outcome, releases } = await deployStored(t);
  assert.deepEqual(outcome, { ok: true });
  assert.equal(releases.length, 1);
});

test('a stored artifact whose bytes changed is refused as changed, and no host gets a release', async (t) => {
  const { outcome, releases, sha256 } = await deployStored(t, true);
  assert.equal(outcome.ok, false);
  assert.match(
    (outcome as { reason: string }).reason,
    new RegExp(
      `^artifact "app" cannot be deployed: the artifact store's file .* no longer matches its sha256 ${sha256}`,
    ),
  );
  assert.deepEqual(releases, []);
});
