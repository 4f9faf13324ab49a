/**
 * The data directory's caches of artifacts and sources are safe to delete
 * (README, "Several replicas"), also while an action runs: a command action
 * with the source and one input artifact, where both caches are deleted
 * (`rm -rf`) right after the source's upload. The input still arrives,
 * verified, and the command sees both.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ArtifactStore } from '../../src/artifact/artifact-store.ts';
import { formatSource } from '../../src/artifact/source-ref.ts';
import type { Executor } from '../../src/executor/executor.ts';
import { LocalExecutor } from '../../src/executor/local-executor.ts';
import type { PipelineDefinition } from '../../src/pipeline/definition.ts';
import { createActionRunner } from '../../src/runner/create-action-runner.ts';
import { openStore } from '../../src/store/open-store.ts';

function tarOf(root: string, name: string, files: Record<string, string>): string {
  const dir = join(root, `${name}-files`);
  mkdirSync(dir);
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  const tarball = join(root, `${name}.tar.gz`);
  execFileSync('tar', ['-czf', tarball, '-C', dir, '.']);
  return tarball;
}

test('deleting the artifacts and sources caches while an action uploads its source leaves its input artifact arriving verified', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'sluice-input-cache-'));
  const data = join(root, 'data');
  const store = await openStore({ dataDir: data });
  t.after(async () => {
    await store.close();
    rmSync(root, { recursive: true, force: true });
  });
  const caches = [join(data, 'artifacts'), join(data, 'sources')];
  const artifacts = new ArtifactStore(caches[0]!);
  const sources = new ArtifactStore(caches[1]!);
  const source = await sources.put(tarOf(root, 'source', { VERSION: 'v1\n' }));
  const input = await artifacts.put(tarOf(root, 'input', { BUILT: 'built bytes\n' }));

  const definition: PipelineDefinition = {
    mode: 'superseded',
    stages: [
      {
        name: 'check',
        needs: [],
        actions: [
          {
            name: 'smoke',
            needs: [],
            kind: 'command',
            command: {
              host: 'local',
              run: ['cat VERSION BUILT'],
              inputs: ['app'],
              timeoutMs: 60_000,
              env: {},
              secrets: [],
            },
          },
        ],
      },
    ],
  };
  const pipelineId = await store.ensurePipeline('acme/web', '.github/sluice.yml');
  const state = await store.createExecution(
    {
      pipelineId,
      revision: { sha: 'abc1234def' },
      definition,
      trigger: 'test',
      source: formatSource({ sha256: source.sha256, strip: 0 }),
    },
    'test',
    Date.now(),
  );
  const execution = (await store.getExecution(state.id))!;
  await store.recordArtifact({
    executionId: execution.id,
    name: 'app',
    sha256: input.sha256,
    size: input.size,
    stage: 'build',
    action: 'package',
    createdAt: Date.now(),
  });

  // The operator's `rm -rf` of both caches, right after the first upload (the source's).
  const local = new LocalExecutor({ baseDir: join(data, 'workspaces') });
  let deleted = false;
  const deleting: Executor = {
    async open(host, options) {
      const session = await local.open(host, options);
      const upload = session.upload.bind(session);
      session.upload = async (from, to) => {
        await upload(from, to);
        if (deleted) return;
        for (const cache of caches) rmSync(cache, { recursive: true, force: true });
        deleted = true;
      };
      return session;
    },
  };
  const runner = createActionRunner({
    store,
    artifacts,
    sources,
    hostsOf: () => [{ name: 'local', address: 'local' }],
    executorFor: () => deleting,
    secretsFor: () => ({}),
  });
  const lines: string[] = [];
  const outcome = await runner.run({
    execution,
    ref: { executionId: execution.id, stage: 'check', action: 'smoke', attempt: 1 },
    signal: new AbortController().signal,
    log: (text) => lines.push(text),
  });

  assert.ok(deleted, 'the caches were deleted while the action ran');
  assert.deepEqual(outcome, { ok: true }, lines.join('\n'));
  assert.ok(lines.includes(`unpacking input artifact app (sha256 ${input.sha256})`), lines.join('\n'));
  assert.ok(lines.includes('v1') && lines.includes('built bytes'), lines.join('\n'));
  // Nothing the action held for itself is left in the data directory.
  assert.equal(execFileSync('find', [data, '-name', '*.tar.gz'], { encoding: 'utf8' }), '');
});
