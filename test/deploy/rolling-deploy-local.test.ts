/**
 * Releases on a real host: this machine through the local executor. The
 * same steps run over SSH; the multi-host, load-balanced cases are in the
 * SSH integration tests.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { hostRollout, type HostRollout, type HostStepContext } from '../../src/deploy/host-steps.ts';
import { rollingDeploy, type RolloutOptions } from '../../src/deploy/rolling-deploy.ts';
import { ExecutorError } from '../../src/executor/executor.ts';
import { LocalExecutor } from '../../src/executor/local-executor.ts';
import type { AppSpec } from '../../src/pipeline/definition.ts';

const root = mkdtempSync(join(tmpdir(), 'sluice-deploy-'));
after(() => rmSync(root, { recursive: true, force: true }));
const executor = new LocalExecutor({ baseDir: join(root, 'workspaces') });
const local = { name: 'local', address: 'local' };

function artifact(version: string): { tarball: string; sha256: string } {
  const dir = join(root, `src-${version}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'VERSION'), `${version}\n`);
  const tarball = join(root, `${version}.tar.gz`);
  execFileSync('tar', ['-czf', tarball, '-C', dir, '.']);
  return { tarball, sha256: createHash('sha256').update(readFileSync(tarball)).digest('hex') };
}

/** How every deploy here rolls out: to dev, one host in one batch. */
function oneHost(
  host: HostRollout,
  release: Pick<RolloutOptions, 'keepReleases' | 'tarball' | 'sha256'>,
): RolloutOptions {
  return { environment: 'dev', hosts: [host], batch: 1, minHealthy: 0, ...release };
}

function app(health = 'test -f VERSION'): AppSpec {
  // Hooks run in the release directory; the events file sits in the deploy root.
  return {
    hooks: {
      stop: ['echo "stop $(cat VERSION)" >> ../../events.log'],
      after_install: ['echo "install $(cat VERSION)" >> ../../events.log'],
      start: ['echo "start $(cat VERSION)" >> ../../events.log'],
    },
    health: { command: health, timeoutMs: 300, intervalMs: 50 },
  };
}

async function deploy(
  path: string,
  version: string,
  spec: AppSpec,
  keepReleases = 5,
  options: { signal?: AbortSignal; onLine?: (line: string) => void; rollbackTimeoutMs?: number } = {},
) {
  const lines: string[] = [];
  const session = await executor.open(local);
  const ctx: HostStepContext = {
    app: spec,
    releaseId: `2026112${version.replace('v', '')}T000000Z-1-abcdef0`,
    env: { SLUICE_ENVIRONMENT: 'dev' },
    hookTimeoutMs: 10_000,
    ...(options.signal && { signal: options.signal }),
    log: (host, line) => {
      lines.push(`[${host}] ${line}`);
      options.onLine?.(line);
    },
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  };
  try {
    const { tarball, sha256 } = artifact(version);
    const rollback = options.rollbackTimeoutMs === undefined ? {} : { rollbackTimeoutMs: options.rollbackTimeoutMs };
    const result = await rollingDeploy(ctx, {
      ...oneHost(hostRollout(session, path), { keepReleases, tarball, sha256 }),
      ...rollback,
    });
    return { result, lines, releaseId: ctx.releaseId };
  } finally {
    await session.close();
  }
}

/** Deploys `version` as `deploy` does, and cancels it once a hook prints `line`. */
function deployCancelledOn(
  line: string,
  path: string,
  version: string,
  spec: AppSpec,
  options: { rollbackTimeoutMs?: number } = {},
) {
  const cancel = new AbortController();
  return deploy(path, version, spec, 5, {
    ...options,
    signal: cancel.signal,
    onLine: (printed) => printed === line && cancel.abort(),
  });
}

const events = (path: string) => readFileSync(join(path, 'events.log'), 'utf8').trim().split('\n');
/** What the hooks log when v1 is deployed, then v2, which fails and is rolled back to v1. */
const V2_ROLLED_BACK = ['install v1', 'start v1', 'stop v1', 'install v2', 'start v2', 'stop v2', 'start v1'];

test('a first deploy unpacks the release, switches current, runs the hooks and checks health', async () => {
  const path = join(root, 'first');
  const { result, lines, releaseId } = await deploy(path, 'v1', app());
  assert.deepEqual(result, { ok: true });
  assert.equal(readlinkSync(join(path, 'current')), `releases/${releaseId}`);
  assert.equal(readFileSync(join(path, 'current/VERSION'), 'utf8'), 'v1\n');
  assert.deepEqual(events(path), ['install v1', 'start v1']);
  assert.ok(lines.includes('[local] healthy after 1 probe'), lines.join('\n'));
});

test('a failing health check puts the host back on its previous release and says which host and check', async () => {
  const path = join(root, 'rollback');
  const first = await deploy(path, 'v1', app());
  // Healthy only on v1: v2 never answers, so the rollback's own check passes.
  const second = await deploy(path, 'v2', app('grep -q v1 VERSION || { echo "not ready"; false; }'));
  assert.equal(second.result.ok, false);
  assert.match(
    (second.result as { reason: string }).reason,
    new RegExp(
      `^local: health check "grep -q v1 VERSION \\|\\| \\{ echo \\"not ready\\"; false; \\}" failed for 300ms \\(last answer: not ready\\); rolled back local to ${first.releaseId}$`,
    ),
  );
  assert.equal(readlinkSync(join(path, 'current')), `releases/${first.releaseId}`);
  assert.deepEqual(events(path), V2_ROLLED_BACK);
});

test("a rollback starts the release it goes back to with its own hooks and health check, after the failing release's stop, which may fail", async () => {
  const path = join(root, 'own-hooks');
  const first = await deploy(path, 'v1', app());
  assert.deepEqual(JSON.parse(readFileSync(join(path, 'releases', first.releaseId, '.sluice/app.json'), 'utf8')), {
    format: 1,
    app: app(),
  });
  // v2's start is broken, and so is its stop in its own release; its health check would never pass.
  const broken: AppSpec = {
    hooks: {
      stop: ['echo "stop2 $(cat VERSION)" >> ../../events.log; grep -q v1 VERSION'],
      start: ['echo "start2 $(cat VERSION)" >> ../../events.log; exit 1'],
    },
    health: { command: 'false', timeoutMs: 300, intervalMs: 50 },
  };
  const second = await deploy(path, 'v2', broken);
  assert.equal(second.result.ok, false);
  const startHook =
    'start hook "echo \\"start2 \\$\\(cat VERSION\\)\\" >> \\.\\./\\.\\./events\\.log; exit 1" exited with code 1';
  assert.match(
    (second.result as { reason: string }).reason,
    new RegExp(`^local: ${startHook}; rolled back local to ${first.releaseId}$`),
  );
  assert.equal(readlinkSync(join(path, 'current')), `releases/${first.releaseId}`);
  assert.deepEqual(events(path), ['install v1', 'start v1', 'stop2 v1', 'start2 v2', 'stop2 v2', 'start v1']);
  const why = second.lines.findIndex((line) =>
    new RegExp(`^\\[\\*\\] local: ${startHook}; rolling back local to ${first.releaseId}$`).test(line),
  );
  assert.ok(why >= 0, second.lines.join('\n'));
  assert.ok(why < second.lines.indexOf(`[local] rolling back to ${first.releaseId}`), 'the reason comes first');
  assert.ok(
    second.lines.some((line) =>
      /^\[local\] stop hook failed during rollback: local: stop hook .* exited with code 1$/.test(line),
    ),
    second.lines.join('\n'),
  );
});

test("a rollback to a release that kept no hooks of its own uses this deploy's, and the log says so", async () => {
  const path = join(root, 'no-own-hooks');
  const first = await deploy(path, 'v1', app());
  rmSync(join(path, 'releases', first.releaseId, '.sluice'), { recursive: true });
  const second = await deploy(path, 'v2', app('grep -q v1 VERSION'));
  assert.equal(second.result.ok, false);
  assert.ok(
    second.lines.includes(
      `[local] release ${first.releaseId} kept no hooks of its own; a rollback to it would use this deploy's`,
    ),
    second.lines.join('\n'),
  );
  assert.equal(readlinkSync(join(path, 'current')), `releases/${first.releaseId}`);
  assert.deepEqual(events(path), V2_ROLLED_BACK);
});

/** Hooks of a release whose validate hook never ends: it waits for a file nobody writes. */
function validateWaits(path: string): AppSpec {
  const spec = app();
  return {
    ...spec,
    hooks: {
      ...spec.hooks,
      validate: [
        `echo "validate $(cat VERSION)" >> ../../events.log; echo "waiting for a go"; while [ ! -e ${join(path, 'never')} ]; do sleep 0.05; done`,
      ],
    },
  };
}

test('a cancel during a batch stops the rollout, and the rollback still runs to the end under its own signal', async () => {
  const path = join(root, 'cancel');
  const first = await deploy(path, 'v1', app());
  // Cancelled once the host is drained and the new release's validate hook says it waits.
  const second = await deployCancelledOn('waiting for a go', path, 'v2', validateWaits(path));
  assert.deepEqual(second.result, {
    ok: false,
    reason: `local: cancelled during the validate hook; rolled back local to ${first.releaseId}`,
  });
  assert.equal(readlinkSync(join(path, 'current')), `releases/${first.releaseId}`);
  assert.deepEqual(events(path), [
    'install v1',
    'start v1',
    'stop v1',
    'install v2',
    'start v2',
    'validate v2',
    'stop v2',
    'start v1',
  ]);
  assert.ok(second.lines.includes('[local] healthy after 1 probe'), 'the rollback checked the old release');
});

test('a rollback that does not end is stopped by its own time limit, and the reason says so', async () => {
  const path = join(root, 'rollback-limit');
  await deploy(path, 'v1', app());
  // v2's stop hook (run by the rollback) waits for ever: only the rollback's time limit ends it.
  const spec = validateWaits(path);
  const hanging = {
    ...spec,
    hooks: {
      ...spec.hooks,
      stop: [`if grep -q v2 VERSION; then while [ ! -e ${join(path, 'never')} ]; do sleep 0.05; done; fi`],
    },
  };
  const second = await deployCancelledOn('waiting for a go', path, 'v2', hanging, { rollbackTimeoutMs: 500 });
  assert.equal(second.result.ok, false);
  assert.match(
    (second.result as { reason: string }).reason,
    /^local: cancelled during the validate hook; .*\(the rollback ran out of its time limit of 500ms\)$/,
  );
});

test('only the newest releases are kept, and never current or previous', async () => {
  const path = join(root, 'prune');
  for (const v of ['v1', 'v2', 'v3', 'v4']) assert.deepEqual((await deploy(path, v, app(), 2)).result, { ok: true });
  assert.deepEqual(readdirSync(join(path, 'releases')).sort(), [
    '20261123T000000Z-1-abcdef0',
    '20261124T000000Z-1-abcdef0',
  ]);
  assert.equal(
    existsSync(join(path, '.sluice/incoming/20261124T000000Z-1-abcdef0.tar.gz')),
    false,
    'the uploaded tarball is removed',
  );
});

test('an artifact that arrives corrupted is not unpacked', async () => {
  const path = join(root, 'corrupt');
  const session = await executor.open(local);
  try {
    const { tarball } = artifact('v9');
    const ctx: HostStepContext = {
      app: app(),
      releaseId: 'r1',
      env: {},
      hookTimeoutMs: 1000,
      log: () => {},
      sleep: async () => {},
    };
    const result = await rollingDeploy(
      ctx,
      oneHost(hostRollout(session, path), { keepReleases: 5, tarball, sha256: '0'.repeat(64) }),
    );
    assert.equal(result.ok, false);
    assert.match(
      (result as { reason: string }).reason,
      /^local: the artifact arrived corrupted: expected sha256 0{64}, got [0-9a-f]{64}$/,
    );
    assert.equal(existsSync(join(path, 'releases/r1')), false);
    assert.equal(existsSync(join(path, 'current')), false);
  } finally {
    await session.close();
  }
});

test('a cancel during the stop hook: the rollback stops the release it runs again before it starts it, so a start that refuses a running app succeeds', async () => {
  const path = join(root, 'cancel-stop');
  const running = join(path, 'running');
  const slowOnce = join(path, 'slow-once');
  // A start that refuses to start the app twice, and a stop that is slow the first time (a graceful wait).
  const guarded: AppSpec = {
    hooks: {
      stop: [
        `echo "stop $(cat VERSION)" >> ../../events.log; if [ ! -e ${slowOnce} ]; then touch ${slowOnce}; echo stopping; while [ ! -e ${join(path, 'never')} ]; do sleep 0.05; done; fi; rm -f ${running}`,
      ],
      start: [
        `if [ -e ${running} ]; then echo "already running"; exit 1; fi; touch ${running}; echo "start $(cat VERSION)" >> ../../events.log`,
      ],
    },
    health: { command: `test -e ${running}`, timeoutMs: 300, intervalMs: 50 },
  };
  const first = await deploy(path, 'v1', guarded);
  assert.deepEqual(first.result, { ok: true });
  const second = await deployCancelledOn('stopping', path, 'v2', guarded);
  assert.deepEqual(second.result, {
    ok: false,
    reason: `local: cancelled during the stop hook; rolled back local to ${first.releaseId}`,
  });
  assert.equal(readlinkSync(join(path, 'current')), `releases/${first.releaseId}`);
  assert.deepEqual(events(path), ['start v1', 'stop v1', 'stop v1', 'start v1']);
  assert.ok(existsSync(running), 'v1 runs');
});

test('a deploy that succeeded on every host stays a success when the host is lost as old releases are pruned', async () => {
  const path = join(root, 'prune-lost');
  await deploy(path, 'v1', app());
  const session = await executor.open(local);
  // The host goes away right after the last host is back in service: at the listing of old releases.
  const losing: typeof session = {
    host: session.host,
    workspace: session.workspace,
    run: (command, options) =>
      command.includes('ls -1')
        ? Promise.reject(new ExecutorError('HOST_UNREACHABLE', 'lost connection to host local'))
        : session.run(command, options),
    upload: (from, to) => session.upload(from, to),
    download: (from, to) => session.download(from, to),
    close: () => session.close(),
  };
  const lines: string[] = [];
  const ctx: HostStepContext = {
    app: app(),
    releaseId: '20261129T000000Z-1-abcdef0',
    env: {},
    hookTimeoutMs: 10_000,
    log: (host, line) => lines.push(`[${host}] ${line}`),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  };
  try {
    const { tarball, sha256 } = artifact('v9');
    const result = await rollingDeploy(ctx, oneHost(hostRollout(losing, path), { keepReleases: 1, tarball, sha256 }));
    assert.deepEqual(result, { ok: true });
    assert.equal(readlinkSync(join(path, 'current')), 'releases/20261129T000000Z-1-abcdef0');
    assert.ok(lines.includes('[local] could not remove old releases: lost connection to host local'), lines.join('\n'));
  } finally {
    await session.close();
  }
});
