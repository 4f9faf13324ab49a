/**
 * The data directory's artifacts cache is safe to delete (README, "Several
 * replicas"), also while a rollout runs: a two-host rollout over real sshd
 * hosts, one upload at a time, where the cache is deleted (`rm -rf`) right
 * after the first host's upload. The other host still gets the verified
 * artifact and both run the new release.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ActionRun } from '../../src/actions/action-runner.ts';
import { ArtifactStore } from '../../src/artifact/artifact-store.ts';
import { runDeployAction } from '../../src/deploy/run-deploy-action.ts';
import type { Executor } from '../../src/executor/executor.ts';
import type { PipelineDefinition } from '../../src/pipeline/definition.ts';
import { SshExecutor } from '../../src/ssh/ssh-executor.ts';
import { openStore } from '../../src/store/open-store.ts';
import { createTestExecution, packVersion, recordBuiltApp } from '../helpers/built-artifact.ts';
import { startSshHosts, type SshHosts } from '../helpers/ssh-hosts.ts';

let ssh: SshHosts;
let root: string;

before(async () => {
  ssh = await startSshHosts(2);
  root = mkdtempSync(join(tmpdir(), 'sluice-cache-deleted-'));
});

after(async () => {
  await ssh?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

test('deleting the artifacts cache after one host took its upload leaves the other deploying the verified artifact', async (t) => {
  const data = join(root, 'data');
  const store = await openStore({ dataDir: data });
  t.after(() => store.close());
  const spec = { environment: 'production', artifact: 'app' };
  const definition: PipelineDefinition = {
    mode: 'superseded',
    app: { hooks: {} },
    stages: [{ name: 'production', needs: [], actions: [{ name: 'deploy', needs: [], kind: 'deploy', deploy: spec }] }],
  };
  const execution = await createTestExecution(store, definition);

  const cache = join(data, 'artifacts');
  const artifacts = new ArtifactStore(cache);
  await recordBuiltApp(store, artifacts, execution.id, packVersion(root, 'src', 'v1\n'), {
    stage: 'production',
    action: 'deploy',
  });

  const executor = new SshExecutor({
    user: ssh.user,
    privateKeyPath: ssh.keyPath,
    knownHostsPath: ssh.knownHostsPath,
  });
  // The operator's `rm -rf` of the cache, right after the first host's upload (uploads go one at a time).
  let deleted = false;
  const deleting: Executor = {
    async open(host, options) {
      const session = await executor.open(host, options);
      const upload = session.upload.bind(session);
      session.upload = async (local, remote) => {
        await upload(local, remote);
        if (deleted) return;
        rmSync(cache, { recursive: true, force: true });
        deleted = true;
      };
      return session;
    },
  };
  const lines: string[] = [];
  const context: ActionRun = {
    execution,
    ref: { executionId: execution.id, stage: 'production', action: 'deploy', attempt: 1 },
    signal: new AbortController().signal,
    log: (text) => lines.push(text),
  };
  const outcome = await runDeployAction(
    {
      store,
      artifacts,
      executorFor: () => deleting,
      targetFor: (environment) => ({
        environment,
        hosts: ssh.hosts.map((h) => ({ name: h.name, address: h.address, port: h.port })),
        path: join(ssh.deployRoot, 'srv'),
        batch: 1,
        minHealthy: 0,
        keepReleases: 5,
      }),
      maxUploads: 1,
    },
    context,
    spec,
  );

  assert.ok(deleted, 'the cache was deleted during the rollout');
  assert.equal(existsSync(cache), false);
  assert.deepEqual(outcome, { ok: true }, lines.join('\n'));
  for (const host of ssh.hosts) {
    const current = readlinkSync(join(host.root, 'srv', 'current'));
    assert.equal(readFileSync(join(host.root, 'srv', current, 'VERSION'), 'utf8'), 'v1\n', host.name);
  }
  // Nothing the deploy held for itself is left in the data directory.
  assert.deepEqual(execFileSync('find', [data, '-name', '*.tar.gz'], { encoding: 'utf8' }), '');
});
