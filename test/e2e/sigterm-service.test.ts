/**
 * SIGTERM of the service is a graceful stop (issue: run it as a service):
 * no new action starts, what runs has the grace period (SLUICE_STOP_GRACE),
 * and what still runs after it is stopped — a deploy first puts back the
 * hosts it touched — and left for the next start, which marks it
 * interrupted, as after a crash; its claim is released at once. Real sshd
 * hosts behind HAProxy, a monitor counting failed requests, and Sluice as
 * `npm start` runs it, stopped and started again on the same data.
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openStore } from '../../src/store/open-store.ts';
import { SERVICE_HOSTS, fixtureAppFiles, fixturePipeline, startAppBed, type AppBed } from '../helpers/app-bed.ts';
import { heldCheckRuns, rerunPayload, waitForSluice } from '../helpers/fault-checks.ts';
import { GithubStandIn } from '../helpers/github-stand-in.ts';
import { pushPayload, sendWebhook, sha } from '../helpers/github-webhooks.ts';
import { freeLoopbackPort } from '../helpers/free-port.ts';
import { githubAppEnv, startSluiceProcess, type SluiceProcess } from '../helpers/sluice-process.ts';

const REPO = 'acme/shop';
const SECRET = 'sigterm-webhook-secret';

let bed: AppBed;
let github: GithubStandIn;
let sluice: SluiceProcess | undefined;
let port = 0;
const work = () => bed.checkout.scratch;

/** v2's build waits for `build-go`; v3's validate hook waits for `go` on its host. */
function pipeline(): string {
  const gate = join(work(), 'build-go');
  return fixturePipeline({
    buildHost: 'builder',
    run: [
      `if [ "$(cat VERSION)" = v2 ] && [ ! -e ${gate} ]; then touch ${join(work(), 'build-started')}; while [ ! -e ${gate} ]; do sleep 0.1; done; fi`,
      'node --check server.js',
    ],
    validate:
      'if [ "$(cat VERSION)" = v3 ] && [ ! -e "$SLUICE_DEPLOY_PATH/shared/go" ]; then touch "$SLUICE_DEPLOY_PATH/shared/validating"; while [ ! -e "$SLUICE_DEPLOY_PATH/shared/go" ]; do sleep 0.1; done; fi',
    healthTimeout: '10s',
  });
}

const appFiles = (version: string) => fixtureAppFiles(version, pipeline());
const env = () => ({
  SLUICE_CONFIG: join(work(), 'server.yml'),
  SLUICE_DATA_DIR: join(work(), 'data'),
  SLUICE_STOP_GRACE: '1s',
  ...githubAppEnv(github, SECRET),
});
const start = async () => (sluice = await startSluiceProcess({ cwd: work(), port, env: env() }));
const waitFor = (what: string, check: () => boolean | Promise<boolean>) => waitForSluice(sluice, what, check, 180_000);
const concluded = (name: string, commit: string) => heldCheckRuns(github, name, commit).at(-1)?.conclusion;

/** SIGTERM, and the exit code, once Sluice has exited. */
async function sigterm(): Promise<number | null> {
  const child = sluice!.child;
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exit;
}

/** What the stopped process left in its data: running actions whose claim no longer holds. */
async function releasedClaims(): Promise<string[]> {
  const store = await openStore({ dataDir: join(work(), 'data') });
  try {
    return (await store.listExpiredClaims(Date.now(), 0)).map((ref) => `${ref.stage}/${ref.action}`);
  } finally {
    await store.close();
  }
}

before(async () => {
  bed = await startAppBed({ ...SERVICE_HOSTS, appEnv: 'STARTUP_DELAY_MS=200\n' });
  github = await new GithubStandIn().start();
  github.install(REPO);
  bed.writeServerConfig({ extra: 'recovery:\n  retry_interrupted_builds: true\n' });
  port = await freeLoopbackPort();
  await start();
  github.addCommit(REPO, sha(1), appFiles('v1'));
  assert.equal(
    (await sendWebhook(sluice!.url, SECRET, 'push', pushPayload({ repo: REPO, after: sha(1) }))).status,
    200,
  );
  await waitFor('v1 in production', () => concluded('Sluice: production', sha(1)) === 'success');
  await bed.assertServing('v1');
});

after(async () => {
  await sluice?.kill();
  await github?.stop();
  await bed?.stop();
});

describe('SIGTERM of the service', { timeout: 600_000 }, () => {
  test('mid-build: the build is stopped after the grace period with its claim released, and the next start retries it to the end', async () => {
    github.addCommit(REPO, sha(2), appFiles('v2'));
    assert.equal(
      (await sendWebhook(sluice!.url, SECRET, 'push', pushPayload({ repo: REPO, after: sha(2) }))).status,
      200,
    );
    await waitFor('the v2 build to be running', () => existsSync(join(work(), 'build-started')));

    assert.equal(await sigterm(), 0, sluice!.output());
    assert.match(
      sluice!.output(),
      /The grace period \(1s\) is over: stopping build\/package .*; the next start marks it interrupted\./,
    );
    assert.deepEqual(
      await releasedClaims(),
      ['build/package'],
      'its claim is released: a peer could take it up at once',
    );
    assert.notEqual(concluded('Sluice: build', sha(2)), 'cancelled');

    writeFileSync(join(work(), 'build-go'), '');
    await start();
    await waitFor('the retried v2 build and its deploy', () => concluded('Sluice: production', sha(2)) === 'success');
    assert.equal(concluded('Sluice: build', sha(2)), 'success');
    assert.match(
      sluice!.output(),
      /build\/package started \(attempt 2\)/,
      'the build ran again, as retry_interrupted_builds asks',
    );
    await bed.assertServing('v2');
  });

  test('mid-deploy: the drained host goes back with no failed request, the deploy is left interrupted, and after the next start a re-run finishes it', async () => {
    const v2Release = bed.currentRelease('host2');
    const monitor = await bed.startMonitor();
    github.addCommit(REPO, sha(3), appFiles('v3'));
    assert.equal(
      (await sendWebhook(sluice!.url, SECRET, 'push', pushPayload({ repo: REPO, after: sha(3) }))).status,
      200,
    );
    await waitFor('host2 to be validating v3', () => existsSync(join(bed.shared('host2'), 'validating')));
    assert.ok(await bed.lb.drained('host2'), 'host2 is drained while it validates');

    assert.equal(await sigterm(), 0, sluice!.output());
    assert.match(
      sluice!.output(),
      /The grace period \(1s\) is over: stopping production\/deploy \(a deploy first puts back the hosts it touched\)/,
    );
    await bed.assertServing('v2');
    for (const name of bed.appHosts)
      assert.equal(bed.currentRelease(name), v2Release, `${name} is back on ${v2Release}`);
    await monitor.waitForMore(25);
    const report = await monitor.stop();
    assert.deepEqual(report.failures, []);
    assert.deepEqual(Object.keys(report.versions), ['v2']);
    assert.deepEqual(await releasedClaims(), ['production/deploy']);

    await start();
    // The next start marks it interrupted, and GitHub's check run says so; a deploy waits for a person.
    await waitFor('the interrupted deploy on GitHub', () => concluded('Sluice: production', sha(3)) !== undefined);
    const production = heldCheckRuns(github, 'Sluice: production', sha(3)).at(-1)!;
    assert.notEqual(production.conclusion, 'success');
    assert.match(`${production.output?.summary}\n${production.output?.text}`, /interrupted/i);
    for (const name of bed.appHosts) writeFileSync(join(bed.shared(name), 'go'), '');
    assert.equal(
      (await sendWebhook(sluice!.url, SECRET, 'check_run', rerunPayload(github, production, REPO, sha(3)))).status,
      200,
    );
    await waitFor('the re-run v3 deploy', () => concluded('Sluice: production', sha(3)) === 'success');
    await bed.assertServing('v3');
  });
});
