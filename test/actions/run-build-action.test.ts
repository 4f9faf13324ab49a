import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFile, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { HostActionResult } from '../../src/actions/action-result.ts';
import { runBuildAction, type BuildActionInput } from '../../src/actions/run-build-action.ts';
import { sha256File } from '../../src/artifact/sha256-file.ts';
import type { ExecSession } from '../../src/executor/executor.ts';
import type { BuildSpec } from '../../src/pipeline/definition.ts';
import { buildSpec, logRecorder, makeBuildFixture, type BuildFixture } from './build-fixture.ts';

const run = promisify(execFile);
const LOCAL = { name: 'local', address: 'local' };

describe('runBuildAction on the local executor', () => {
  let fixture: BuildFixture;
  let session: ExecSession;
  let output: ReturnType<typeof logRecorder>;

  before(async () => {
    fixture = await makeBuildFixture();
  });
  after(() => fixture.remove());
  beforeEach(async () => {
    session = await fixture.executor.open(LOCAL);
    output = logRecorder();
  });
  afterEach(() => session.close());

  function build(spec: Partial<BuildSpec>, extra: Partial<BuildActionInput> = {}): Promise<HostActionResult> {
    return runBuildAction({
      session,
      spec: buildSpec(spec),
      sourceTarball: fixture.sourceTarball,
      inputs: [],
      secrets: {},
      artifacts: fixture.artifacts,
      log: output.log,
      ...extra,
    });
  }

  it('builds from the source and stores the artifact under its sha256', async () => {
    const result = await build({
      run: ['test -f README.md', 'mkdir -p dist', 'echo hello > dist/out.txt'],
      artifact: { name: 'app', paths: ['dist'] },
    });
    assert.ok(result.ok, JSON.stringify(result));
    assert.ok(result.artifact);
    assert.equal(result.artifact.name, 'app');
    const stored = fixture.artifacts.path(result.artifact.sha256);
    assert.equal(await sha256File(stored), result.artifact.sha256);
    assert.equal((await stat(stored)).size, result.artifact.size);
    const { stdout } = await run('tar', ['-xzOf', stored, 'dist/out.txt']);
    assert.equal(stdout, 'hello\n');
    assert.deepEqual(
      output.lines('sluice').filter((line) => line.startsWith('$ ')),
      ['$ test -f README.md', '$ mkdir -p dist', '$ echo hello > dist/out.txt'],
    );
  });

  it('streams command output into the log', async () => {
    const result = await build({ run: ['cat README.md', 'echo warning >&2'] });
    assert.deepEqual(result, { ok: true });
    assert.deepEqual(output.lines('stdout'), ['# app']);
    assert.deepEqual(output.lines('stderr'), ['warning']);
  });

  it('stops at the first failing command and runs none after it', async () => {
    const result = await build({ run: ['echo one', 'echo two >&2; exit 4', 'touch should-not-run'] });
    assert.deepEqual(result, {
      ok: false,
      code: 'command_failed',
      reason: 'command 2 of 3 "echo two >&2; exit 4" exited with code 4',
    });
    assert.ok(!output.lines().includes('$ touch should-not-run'));
    await assert.rejects(stat(join(session.workspace, 'source', 'should-not-run')));
  });

  it('kills a command at its timeout and says so', async () => {
    const result = await build({ run: ['sleep 5'], timeoutMs: 300 });
    assert.deepEqual(result, {
      ok: false,
      code: 'timed_out',
      reason: 'command 1 of 1 "sleep 5" timed out after 300ms',
    });
  });

  it('stops when cancelled', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const result = await build({ run: ['sleep 5', 'echo after'] }, { signal: controller.signal });
    assert.deepEqual(result, { ok: false, code: 'cancelled', reason: 'command 1 of 2 "sleep 5" was cancelled' });
  });

  it('fails clearly when an artifact path was not produced', async () => {
    const result = await build({ run: ['mkdir -p dist'], artifact: { name: 'app', paths: ['dist', 'deploy'] } });
    assert.deepEqual(result, {
      ok: false,
      code: 'artifact_failed',
      reason: 'artifact "app": path "deploy" does not exist in the workspace after the build',
    });
  });

  it('refuses artifact paths that leave the workspace', async () => {
    const result = await build({ run: [], artifact: { name: 'app', paths: ['../../etc'] } });
    assert.equal(result.ok, false);
    assert.match(!result.ok ? result.reason : '', /path "\.\.\/\.\.\/etc" must be relative to the workspace/);
  });

  it('masks secrets printed by a command, in every form, and exposes only granted ones', async () => {
    const result = await build(
      {
        run: ['echo "token is $API_TOKEN"', 'printf %s "$API_TOKEN" | base64', 'echo "other=${OTHER:-unset}"'],
        secrets: ['API_TOKEN'],
      },
      { secrets: { API_TOKEN: 's3cr3t-value', OTHER: 'another-secret' } },
    );
    assert.deepEqual(result, { ok: true });
    assert.deepEqual(output.lines('stdout'), ['token is ***', '***', 'other=unset']);
    assert.ok(!output.lines().some((line) => line.includes('s3cr3t')));
  });

  it('fails before running anything when a granted secret has no value', async () => {
    const result = await build({ run: ['touch ran'], secrets: ['MISSING'] });
    assert.deepEqual(result, {
      ok: false,
      code: 'setup_failed',
      reason: 'secret "MISSING" is not available to this action',
    });
    assert.deepEqual(output.lines(), []);
  });

  it('unpacks an input artifact into the workspace before the commands', async () => {
    const dir = await mkdtemp(join(fixture.root, 'input-'));
    await run('bash', ['-c', 'mkdir -p lib && echo from-an-earlier-action > lib/dep.txt && tar -czf deps.tar.gz lib'], {
      cwd: dir,
    });
    const stored = await fixture.artifacts.put(join(dir, 'deps.tar.gz'));
    const result = await build(
      { run: ['cat lib/dep.txt', 'cat README.md'], inputs: ['deps'] },
      { inputs: [{ name: 'deps', sha256: stored.sha256, file: stored.path }] },
    );
    assert.deepEqual(result, { ok: true });
    assert.deepEqual(output.lines('stdout'), ['from-an-earlier-action', '# app']);
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses an input artifact whose bytes do not match its digest', async () => {
    const wrong = 'a'.repeat(64);
    const actual = await sha256File(fixture.sourceTarball);
    const result = await build(
      { run: ['touch ran'], inputs: ['deps'] },
      { inputs: [{ name: 'deps', sha256: wrong, file: fixture.sourceTarball }] },
    );
    assert.deepEqual(result, {
      ok: false,
      code: 'setup_failed',
      reason: `input artifact "deps" arrived corrupted on local: expected sha256 ${wrong}, got ${actual}`,
    });
  });

  /** The session, except that what it downloads arrives with a byte more, as a transfer gone wrong. */
  const corruptingDownloads = (session: ExecSession): ExecSession => ({
    host: session.host,
    workspace: session.workspace,
    run: (command, options) => session.run(command, options),
    upload: (from, to) => session.upload(from, to),
    download: async (from, to) => {
      await session.download(from, to);
      await appendFile(to, 'x');
    },
    close: () => session.close(),
  });

  it('refuses an artifact that changed on the way back', async () => {
    const corrupting = corruptingDownloads(session);
    const result = await build(
      { run: ['mkdir -p dist', 'echo hi > dist/a'], artifact: { name: 'app', paths: ['dist'] } },
      { session: corrupting },
    );
    assert.equal(result.ok, false);
    assert.match(
      !result.ok ? result.reason : '',
      /^artifact "app" changed in transfer: sha256 [0-9a-f]{64} on the host, [0-9a-f]{64} after download$/,
    );
  });

  it('refuses an artifact that does not compress and changed on the way back, and keeps nothing of it', async () => {
    const kept = await readdir(fixture.artifacts.dir).catch(() => []);
    const corrupting = corruptingDownloads(session);
    const result = await build(
      { run: ['mkdir -p dist', 'head -c 2000000 /dev/urandom > dist/a'], artifact: { name: 'app', paths: ['dist'] } },
      { session: corrupting },
    );
    assert.equal(result.ok, false);
    assert.match(
      !result.ok ? result.reason : '',
      /^artifact "app" changed in transfer: sha256 [0-9a-f]{64} on the host, [0-9a-f]{64} after download$/,
    );
    assert.ok(output.lines('sluice').some((line) => line.startsWith('artifact "app" does not compress')));
    assert.deepEqual(await readdir(fixture.artifacts.dir), kept, 'neither the download nor its gzip file is left');
  });

  it('packs the whole workspace with paths: [.] without packing its own tarball', async () => {
    const result = await build({ run: ['echo x > built.txt'], artifact: { name: 'all', paths: ['.'] } });
    assert.ok(result.ok && result.artifact, JSON.stringify(result));
    const { stdout } = await run('tar', ['-tzf', fixture.artifacts.path(result.artifact.sha256)]);
    const names = stdout.split('\n').filter(Boolean).sort();
    assert.deepEqual(names, ['./', './README.md', './built.txt', './package.json']);
  });
});
