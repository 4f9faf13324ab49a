/** A small checkout packed as a source tarball, a local executor and a store: what a build needs. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogStream } from '../../src/store/log-store.ts';
import { ArtifactStore } from '../../src/artifact/artifact-store.ts';
import { packSource } from '../../src/artifact/pack-source.ts';
import { LocalExecutor } from '../../src/executor/local-executor.ts';
import type { BuildSpec } from '../../src/pipeline/definition.ts';
import { makeGitCheckout } from '../artifact/make-git-checkout.ts';

export interface BuildFixture {
  root: string;
  sourceTarball: string;
  executor: LocalExecutor;
  artifacts: ArtifactStore;
  remove(): Promise<void>;
}

export async function makeBuildFixture(): Promise<BuildFixture> {
  const root = await mkdtemp(join(tmpdir(), 'sluice-build-'));
  const checkout = await makeGitCheckout({ 'README.md': '# app\n', 'package.json': '{"name":"app"}\n' });
  await checkout.git('add', '.');
  await checkout.git('commit', '--quiet', '-m', 'Start');
  const sourceTarball = join(root, 'source.tar.gz');
  await packSource(checkout.dir, sourceTarball);
  await checkout.remove();
  return {
    root,
    sourceTarball,
    executor: new LocalExecutor({ baseDir: join(root, 'workspaces'), killGraceMs: 300 }),
    artifacts: new ArtifactStore(join(root, 'artifacts')),
    remove: () => rm(root, { recursive: true, force: true }),
  };
}

export function buildSpec(overrides: Partial<BuildSpec> = {}): BuildSpec {
  return { host: 'local', run: [], inputs: [], timeoutMs: 10_000, env: {}, secrets: [], ...overrides };
}

/** Collects an action's log as a user would read it. */
export function logRecorder() {
  const entries: Array<{ line: string; stream: LogStream }> = [];
  return {
    entries,
    log: (line: string, stream: LogStream) => entries.push({ line, stream }),
    lines: (stream?: LogStream) => entries.filter((e) => !stream || e.stream === stream).map((e) => e.line),
  };
}
