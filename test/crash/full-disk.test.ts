/**
 * Sluice with its data directory on a full filesystem (a small tmpfs): no
 * crash and no unhandled rejection. Webhooks that cannot be stored are
 * answered 503, the running build fails with its log saying why, pages
 * still answer, and once there is space again the failure is recorded, the
 * stage can be retried from GitHub, and a redelivered push runs. Started
 * on a disk that is full already, Sluice does not exit: it serves (or, when
 * its database cannot be made, answers 503) and carries on by itself once
 * there is space.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { GithubStandIn } from '../helpers/github-stand-in.ts';
import {
  assertCarriesOn,
  builderDevConfig,
  gatedBuildToDev,
  heldCheckRuns,
  pushGatedBuild,
  rerunPayload,
  waitForSluice,
} from '../helpers/fault-checks.ts';
import { pushPayload, sendWebhook, sha } from '../helpers/github-webhooks.ts';
import { freeLoopbackPort } from '../helpers/free-port.ts';
import { buildOf, pipelineFixture } from '../helpers/pipeline-fixture.ts';
import { githubAppEnv, startSluiceProcess, type SluiceProcess } from '../helpers/sluice-process.ts';

const SECRET = 'full-disk-webhook-secret';
const REPO = 'acme/shop';

let github: GithubStandIn;
let dir = '';
let data = '';
let sluice: SluiceProcess | undefined;

before(async () => {
  if (process.getuid?.() !== 0) throw new Error('this test mounts a tmpfs: run it as root');
  github = await new GithubStandIn().start();
  github.install([REPO, 'acme/restart']);
  dir = mkdtempSync(join(tmpdir(), 'sluice-full-'));
  data = join(dir, 'data');
  mkdirSync(data);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', data]);
  writeFileSync(join(dir, 'server.yml'), builderDevConfig(dir));
});

after(async () => {
  await sluice?.kill();
  await github?.stop();
  if (data) execFileSync('umount', ['-l', data]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const waitFor = (what: string, check: () => boolean | Promise<boolean>, ms?: number) =>
  waitForSluice(sluice, what, check, ms);

/** Writes zeros into the tmpfs until it has no space left. */
function fill(file: string): void {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
}

const checkRuns = (name: string, commit: string) => heldCheckRuns(github, name, commit);

test(
  'a full data directory fails the running build and refuses webhooks with 503, and Sluice carries on once there is space',
  { timeout: 300_000 },
  async () => {
    const gate = join(dir, 'gate');
    const started = join(dir, 'started');
    const pipeline = gatedBuildToDev(started, gate, ['head -c 1048576 /dev/zero > dist/blob']);
    sluice = await startSluiceProcess({
      cwd: dir,
      port: await freeLoopbackPort(),
      env: { SLUICE_DATA_DIR: data, SLUICE_CONFIG: join(dir, 'server.yml'), ...githubAppEnv(github, SECRET) },
    });
    const bed = { github, sluice, secret: SECRET, repo: REPO };
    await pushGatedBuild(bed, pipeline, started);

    fill(join(data, 'filler'));
    // SQLite may still have room in its write-ahead log; a few large pings use it up.
    let refused: { status: number; text: string } | undefined;
    for (let i = 0; i < 20 && !refused; i++) {
      const reply = await sendWebhook(
        sluice.url,
        SECRET,
        'ping',
        { zen: 'x'.repeat(512 * 1024), hook_id: i, installation: { id: 77 } },
        { delivery: `ping-${i}` },
      );
      if (reply.status !== 200) refused = reply;
    }
    assert.equal(refused?.status, 503, 'a webhook that cannot be stored is not acknowledged');
    assert.match(refused?.text ?? '', /could not store this delivery \(.*full.*\); nothing was acknowledged/);
    const push2 = await sendWebhook(sluice.url, SECRET, 'push', pushPayload({ repo: REPO, after: sha(2) }), {
      delivery: 'push-2',
    });
    assert.equal(push2.status, 503, push2.text);

    // The process keeps serving: its health check and the build's page.
    assert.equal((await fetch(`${sluice.url}/healthz`)).status, 200);
    const page = String(checkRuns('Sluice: build', sha(1))[0]?.details_url);
    assert.equal((await fetch(page)).status, 200, page);

    // The build goes on and fails on the full disk; its end cannot be recorded yet.
    writeFileSync(gate, '');
    await waitFor('Sluice to say it cannot record the build', () =>
      /could not record how build\/compile ended/.test(sluice!.output()),
    );
    rmSync(join(data, 'filler'));

    await waitFor('the failed build on GitHub', () => checkRuns('Sluice: build', sha(1))[0]?.conclusion === 'failure');
    const [build] = checkRuns('Sluice: build', sha(1));
    assert.match(
      `${build?.output?.summary}\n${build?.output?.text}`,
      /No space left on device/i,
      'the check run says what happened',
    );

    // Retried from GitHub, the stage builds and deploys; GitHub's redelivery of the refused push runs.
    await assertCarriesOn(bed, build!);
  },
);

/** A tmpfs of its own for a test that starts on a full disk, unmounted (lazily) after it. */
function mountSmall(t: TestContext, name: string): string {
  const where = join(dir, name);
  mkdirSync(where);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', where]);
  t.after(() => execFileSync('umount', ['-l', where]));
  return where;
}

/** A Sluice process of the test's own, killed after it. */
async function startOn(t: TestContext, dataDir: string, ready?: RegExp): Promise<SluiceProcess> {
  const started = await startSluiceProcess({
    cwd: dir,
    port: await freeLoopbackPort(),
    env: { SLUICE_DATA_DIR: dataDir, SLUICE_CONFIG: join(dir, 'server.yml'), ...githubAppEnv(github, SECRET) },
    ...(ready && { ready }),
  });
  t.after(() => started.kill());
  return started;
}

/** `pgrep -f` of a pattern: pids, or '' when nothing matches. */
function running(pattern: string): string {
  try {
    return execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).trim();
  } catch (error) {
    if ((error as { status?: number }).status === 1) return '';
    throw error;
  }
}

const fullLines = (process: SluiceProcess, dataDir: string) =>
  process
    .output()
    .split('\n')
    // A line as the logger prints it for a terminal: `INFO (sluice): …`.
    .map((line) => line.replace(/^\w+ \(sluice\): /, ''))
    .filter((line) => line.startsWith(`disk full at ${dataDir}: free space to go on`));

test(
  'killed mid-build and started again on a full disk, Sluice serves, refuses webhooks with 503, says so once, and recovers by itself once there is space',
  { timeout: 300_000 },
  async (t) => {
    const repo = 'acme/restart';
    const disk = mountSmall(t, 'restart-data');
    const started = join(dir, 'restart-started');
    const sleep = `8888.${process.pid}`;
    const pipeline = pipelineFixture('build-to-dev', (p) => {
      p.stages = p.stages.filter((stage) => stage.name === 'build');
      buildOf(p).run.unshift(`test -f ${started} || { touch ${started}; sleep ${sleep}; }`);
    });
    github.addCommit(repo, sha(11), { '.github/sluice.yml': pipeline, VERSION: 'v11\n' });
    github.addCommit(repo, sha(12), { '.github/sluice.yml': pipeline, VERSION: 'v12\n' });
    github.setBranch(repo, 'main', sha(11));
    const first = await startOn(t, disk);
    assert.equal(
      (
        await sendWebhook(first.url, SECRET, 'push', pushPayload({ repo, after: sha(11) }), {
          delivery: 'restart-push-11',
        })
      ).status,
      200,
    );
    await waitForSluice(first, 'the build to start', () => existsSync(started));
    await first.kill();

    fill(join(disk, 'filler'));
    const second = await startOn(t, disk);
    const waitForSecond = (what: string, check: () => boolean | Promise<boolean>) => waitForSluice(second, what, check);
    assert.equal(fullLines(second, disk).length, 1, second.output());
    assert.equal((await fetch(`${second.url}/healthz`)).status, 200);
    // The page the check run links to, from the process up now.
    const link = new URL(String(checkRuns('Sluice: build', sha(11))[0]?.details_url));
    const page = `${second.url}${link.pathname}${link.search}`;
    assert.equal((await fetch(page)).status, 200, page);
    const refused = await sendWebhook(second.url, SECRET, 'push', pushPayload({ repo, after: sha(12) }), {
      delivery: 'restart-push-12',
    });
    assert.equal(refused.status, 503);
    assert.match(refused.text, /full/);

    rmSync(join(disk, 'filler'));
    await waitForSecond(
      'the interrupted build on GitHub',
      () => checkRuns('Sluice: build', sha(11))[0]?.conclusion !== undefined,
    );
    // What the killed process's build left running on this machine was stopped before that.
    assert.equal(running(`^sleep ${sleep.replace('.', '[.]')}$`), '', 'the orphaned build is stopped');
    const [build] = checkRuns('Sluice: build', sha(11));
    assert.equal(
      (await sendWebhook(second.url, SECRET, 'check_run', rerunPayload(github, build!, repo, sha(11)))).status,
      200,
    );
    await waitForSecond('the re-run build', () => checkRuns('Sluice: build', sha(11)).at(-1)?.conclusion === 'success');
    assert.equal(fullLines(second, disk).length, 1, 'one line for the spell, not one per try');
    assert.equal(second.child.exitCode, null);
    assert.doesNotMatch(second.output(), /unhandled|ERR_UNHANDLED_REJECTION|triggerUncaughtException/i);
  },
);

test(
  'started on a disk too full to make its database, Sluice answers 503 with the reason instead of exiting, and starts once there is space',
  { timeout: 300_000 },
  async (t) => {
    // Full before Sluice ever ran there: its database cannot be made.
    const disk = mountSmall(t, 'closed-data');
    fill(join(disk, 'filler'));

    const waiting = await startOn(t, disk, /disk full at .*: free space to go on/);
    assert.deepEqual(fullLines(waiting, disk), [
      `disk full at ${disk}: free space to go on (Sluice cannot open its database; it answers 503 until it can)`,
    ]);
    const refused = await sendWebhook(waiting.url, SECRET, 'push', pushPayload({ repo: REPO, after: sha(1) }), {
      delivery: 'closed-push-1',
    });
    assert.equal(refused.status, 503);
    assert.match(refused.text, new RegExp(`disk full at ${disk}: free space to go on`));
    assert.equal((await fetch(`${waiting.url}/healthz`)).status, 503);

    rmSync(join(disk, 'filler'));
    await waitForSluice(waiting, 'Sluice to start', () => /Sluice listening on port/.test(waiting.output()));
    assert.equal((await fetch(`${waiting.url}/healthz`)).status, 200);
    assert.equal(waiting.child.exitCode, null, 'it never exited');
  },
);
