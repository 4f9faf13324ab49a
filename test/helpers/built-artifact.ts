/**
 * What a deploy test starts from: an execution of a pipeline in the store,
 * and an app artifact (a tarball holding one VERSION file) put in an
 * artifact store and recorded as built by one of its actions.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ArtifactStore } from '../../src/artifact/artifact-store.ts';
import type { DeployDeps } from '../../src/deploy/run-deploy-action.ts';
import { LocalExecutor } from '../../src/executor/local-executor.ts';
import type { PipelineDefinition } from '../../src/pipeline/definition.ts';
import type { Store } from '../../src/store/store.ts';

/** A new execution of acme/web's pipeline `definition`, as readers see it. */
export async function createTestExecution(store: Store, definition: PipelineDefinition) {
  const pipelineId = await store.ensurePipeline('acme/web', '.github/sluice.yml');
  const state = await store.createExecution(
    { pipelineId, revision: { sha: 'abc1234def' }, definition, trigger: 'test' },
    'test',
    Date.now(),
  );
  return (await store.getExecution(state.id))!;
}

/** A tarball in `root` of one file, VERSION, holding `version`. */
export function packVersion(root: string, name: string, version: string): string {
  const src = join(root, name);
  mkdirSync(src);
  writeFileSync(join(src, 'VERSION'), version);
  const tarball = join(root, `${name}.tar.gz`);
  execFileSync('tar', ['-czf', tarball, '-C', src, '.']);
  return tarball;
}

/** `tarball` stored in `artifacts` and recorded as the artifact `app` that `stage`/`action` of the execution built. */
export async function recordBuiltApp(
  store: Store,
  artifacts: ArtifactStore,
  executionId: string,
  tarball: string,
  by: { stage: string; action: string },
) {
  const stored = await artifacts.put(tarball);
  await store.recordArtifact({
    executionId,
    name: 'app',
    sha256: stored.sha256,
    size: stored.size,
    ...by,
    createdAt: Date.now(),
  });
  return stored;
}

/** A deploy to one host, this machine, releasing into `<root>/srv` (workspaces in `<root>/workspaces`). */
export function localDeployDeps(
  root: string,
  parts: Pick<DeployDeps, 'store' | 'artifacts'> & Partial<DeployDeps>,
): DeployDeps & { path: string } {
  const path = join(root, 'srv');
  const executor = new LocalExecutor({ baseDir: join(root, 'workspaces') });
  return {
    executorFor: () => executor,
    targetFor: (environment) => ({
      environment,
      hosts: [{ name: 'local', address: 'local' }],
      path,
      batch: 1,
      minHealthy: 0,
      keepReleases: 5,
    }),
    ...parts,
    path,
  };
}
