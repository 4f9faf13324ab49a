/**
 * A deploy stopped half-way still puts its hosts back (PRODUCT S2, S4, R3).
 * Two app hosts (real sshd) behind HAProxy run v1; v2's validate hook waits
 * for a file nobody writes, so the rollout is reliably caught with host2
 * drained, switched and started on v2, before its health check. It is then
 * stopped — by `/sluice cancel` through the running app, by Ctrl-C of
 * `sluice run`, by SIGTERM of the service once its grace period is over
 * (the deploy is then left for the next start to mark interrupted, not
 * cancelled) — while a monitor sends requests through the load balancer.
 * Every host must end UP, on v1, serving, with no failed request.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SERVICE_HOSTS, fixtureAppFiles, fixturePipeline, startAppBed, type AppBed } from '../helpers/app-bed.ts';
import { GithubStandIn } from '../helpers/github-stand-in.ts';
import { pushPayload, sendWebhook } from '../helpers/github-webhooks.ts';
import { WEBHOOK_SECRET } from '../helpers/github-sluice.ts';
import { freeLoopbackPort } from '../helpers/free-port.ts';
import type { RunningMonitor } from '../helpers/request-monitor.ts';
import { runSluice, startSluice, waitForOutput } from '../helpers/run-sluice.ts';
import { sendSlackRequest, signSlackRequest, slashCommand } from '../helpers/slack-requests.ts';
import { ANN, MALLORY, REPO, sha, startSlackSluice, type SlackSluice } from '../helpers/slack-sluice.ts';
import { githubAppEnv, startSluiceProcess } from '../helpers/sluice-process.ts';
import { heldCheckRuns } from '../helpers/fault-checks.ts';
import { until as waitUntil } from '../helpers/until.ts';
import { findActionSummary } from '../../src/store/store.ts';

const FIXTURE_APP = fileURLToPath(new URL('../fixtures/app/', import.meta.url));

/** v2's validate hook says it waits, then waits for a file nobody writes; a cancel kills it. */
const PIPELINE = fixturePipeline({
  buildHost: 'builder',
  validate:
    'if [ "$(cat VERSION)" != v1 ]; then echo "$(cat VERSION) waits for a go"; touch "$SLUICE_DEPLOY_PATH/shared/validating-$(cat VERSION)"; while [ ! -e "$SLUICE_DEPLOY_PATH/shared/never" ]; do sleep 0.1; done; fi',
  healthTimeout: '10s',
});

let bed: AppBed;
let configFile = '';
const appFiles = (version: string) => fixtureAppFiles(version, PIPELINE);
const serverConfig = (extra = '') => bed.serverConfig({ extra });
const cliArgs = () => ['run', '--server', configFile, '--data-dir', join(bed.checkout.scratch, 'cli-data')];

async function assertNoFailedRequest(monitor: RunningMonitor, version: string): Promise<void> {
  await monitor.waitForMore(25);
  const report = await monitor.stop();
  assert.deepEqual(report.failures, []);
  assert.deepEqual(Object.keys(report.versions), [version], 'only the release the hosts went back to answered');
}

const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000) =>
  waitUntil(what, probe, { timeoutMs });

let v1Release = '';

before(async () => {
  bed = await startAppBed({ ...SERVICE_HOSTS, appEnv: 'STARTUP_DELAY_MS=200\n' });
  bed.checkout.write('VERSION', 'v1\n');
  bed.checkout.write('.github/sluice.yml', PIPELINE);
  bed.checkout.commit('v1');
  configFile = bed.writeServerConfig();
  const first = await runSluice(cliArgs(), { cwd: bed.checkout.dir, timeoutMs: 120_000 });
  assert.equal(first.code, 0, first.stdout + first.stderr);
  v1Release = bed.currentRelease('host2');
  await bed.assertServing('v1', v1Release);
});

after(async () => {
  await bed?.stop();
});

describe('a deploy stopped half-way', { timeout: 400_000 }, () => {
  test('/sluice cancel through the running app: the drained host goes back to v1 and into the load balancer, with no failed request', async () => {
    const slackConfig = `slack:\n  commands:\n    cancel: [${ANN}]\n`;
    const app: SlackSluice = await startSlackSluice({ serverConfig: () => serverConfig(slackConfig) });
    try {
      const monitor = await bed.startMonitor();
      app.github.addCommit(REPO, sha(2), appFiles('v2'), { message: 'Release v2' });
      const reply = await sendWebhook(
        app.sluice.url,
        WEBHOOK_SECRET,
        'push',
        pushPayload({ repo: REPO, after: sha(2), message: 'Release v2' }),
      );
      assert.equal(reply.status, 200);

      const ref = { stage: 'production', action: 'deploy', attempt: 1 };
      const execution = await until('the execution', async () => (await app.sluice.store.listExecutions())[0]);
      const log = async () =>
        (await app.sluice.store.readLog({ executionId: execution.id, ...ref })).map((l) => l.text);
      // The window: host2 drained and on v2, its validate hook waiting, no health check yet.
      await until('host2 to be drained and waiting in its validate hook', async () =>
        (await log()).includes('[host2] v2 waits for a go') ? true : undefined,
      ).catch(async (error: unknown) => {
        throw new Error(
          `${String(error)}; the deploy logged:\n${(await log()).join('\n')}\nSluice logged:\n${app.logs.join('\n')}\n${JSON.stringify(await app.sluice.store.getExecution(execution.id))}`,
        );
      });
      assert.ok((await log()).includes('[host2] drained from the load balancer'));
      assert.ok(await bed.lb.drained('host2'), 'host2 is drained');

      assert.equal(
        (await commandNow(app, 'cancel acme/shop', MALLORY)).text,
        `You may not run \`/sluice cancel\`; ask <@${ANN}>.`,
      );
      const answer = await commandNow(app, 'cancel acme/shop', ANN);
      assert.equal(answer.response_type, 'in_channel');
      assert.equal(
        answer.text,
        `⊘ <@${ANN}> cancelled execution #1 of *acme/shop* (\`${sha(2).slice(0, 7)}\`). Its deploy stops and first puts the hosts it touched back on their previous release.`,
      );

      // Once Sluice is idle, the rollback has run to its end.
      await app.sluice.idle();
      const done = await app.sluice.store.getExecution(execution.id);
      assert.equal(done?.status, 'cancelled');
      const deploy = done && findActionSummary(done, 'production', 'deploy');
      assert.equal(deploy?.status, 'cancelled');
      assert.equal(
        deploy?.reason,
        `cancelled by slack:${ANN}; host2: cancelled during the validate hook; rolled back host2 to ${v1Release}`,
      );
      const lines = await log();
      assert.ok(lines.includes(`[host2] rolling back to ${v1Release}`), lines.join('\n'));
      assert.ok(lines.includes('[host2] back in the load balancer'), lines.join('\n'));
      assert.ok(!lines.some((l) => l.startsWith('[host3]') && l.includes('drained')), 'host3 was never touched');

      await bed.assertServing('v1', v1Release);
      await assertNoFailedRequest(monitor, 'v1');
    } finally {
      await app.close();
    }
  });

  test('Ctrl-C of sluice run cancels the same way: it waits for the rollback, then exits 130', async () => {
    bed.checkout.write('VERSION', 'v2\n');
    bed.checkout.commit('v2');
    const monitor = await bed.startMonitor();
    const child = startSluice(cliArgs(), { cwd: bed.checkout.dir });
    const output = collect(child);
    await waitForOutput(child, /\[host2\] v2 waits for a go/, 120_000);
    assert.match(output.text(), /\[host2\] drained from the load balancer/);
    child.kill('SIGINT');
    const code = await exited(child);

    const text = output.text();
    assert.equal(code, 130, text);
    assert.match(
      text,
      /SIGINT: cancelling; a deploy puts the hosts it touched back on their previous release first\. Press Ctrl-C again to exit at once\./,
    );
    assert.match(text, new RegExp(`\\[host2\\] rolling back to ${v1Release}`));
    assert.match(
      text,
      new RegExp(
        `■ production/deploy cancelled in [^\\n]* — cancelled by cli:[^:]+: SIGINT in the terminal; host2: cancelled during the validate hook; rolled back host2 to ${v1Release}\\n`,
      ),
    );
    assert.match(text, /✗ Execution #2 cancelled after /);

    await bed.assertServing('v1', v1Release);
    await assertNoFailedRequest(monitor, 'v1');
  });

  test('SIGTERM of the service (npm start) gives the deploy its grace period, then puts the hosts back the same way and exits, without cancelling the execution', async () => {
    const github = await new GithubStandIn().start();
    github.install(REPO);
    const sluice = await startSluiceProcess({
      cwd: bed.checkout.scratch,
      port: await freeLoopbackPort(),
      env: {
        SLUICE_CONFIG: configFile,
        SLUICE_DATA_DIR: join(bed.checkout.scratch, 'service-data'),
        SLUICE_STOP_GRACE: '1s',
        ...githubAppEnv(github, WEBHOOK_SECRET),
      },
    });
    try {
      const monitor = await bed.startMonitor();
      github.addCommit(REPO, sha(4), appFiles('v4'), { message: 'Release v4' });
      const reply = await sendWebhook(
        sluice.url,
        WEBHOOK_SECRET,
        'push',
        pushPayload({ repo: REPO, after: sha(4), message: 'Release v4' }),
      );
      assert.equal(reply.status, 200);
      // The window again: host2's validate hook has started (it marks that on the host), after its drain.
      const marker = join(bed.shared('host2'), 'validating-v4');
      await until('host2 to be validating v4', async () => (existsSync(marker) ? true : undefined));
      assert.ok(await bed.lb.drained('host2'), 'host2 is drained');

      const exit = new Promise<number | null>((resolve) => sluice.child.once('exit', (code) => resolve(code)));
      sluice.child.kill('SIGTERM');
      assert.equal(await exit, 0, sluice.output());
      assert.match(
        sluice.output(),
        /SIGTERM: stopping; no new action starts, and what runs has 1s to end before it is interrupted — a deploy first puts back the hosts it touched \(send it again to exit at once\)/,
      );
      assert.match(
        sluice.output(),
        /The grace period \(1s\) is over: stopping production\/deploy \(a deploy first puts back the hosts it touched\); the next start marks it interrupted\./,
      );
      // Not cancelled: GitHub still shows the stage in progress, for the next start to mark interrupted.
      const production = heldCheckRuns(github, 'Sluice: production', sha(4)).at(-1);
      assert.notEqual(production?.conclusion, 'cancelled');

      await bed.assertServing('v1', v1Release);
      await assertNoFailedRequest(monitor, 'v1');
    } finally {
      await sluice.stop();
      await github.stop();
    }
  });

  test('a second Ctrl-C exits at once and says which hosts it leaves drained and on which release', async () => {
    // v3's own stop script (which the rollback runs) waits too, so the second Ctrl-C comes mid-rollback.
    bed.checkout.write('VERSION', 'v3\n');
    bed.checkout.write(
      'deploy/stop.sh',
      `if [ "$(cat VERSION)" = v3 ]; then echo "v3 stop waits"; while [ ! -e "$SLUICE_DEPLOY_PATH/shared/go" ]; do sleep 0.1; done; fi\n${readFileSync(join(FIXTURE_APP, 'deploy/stop.sh'), 'utf8')}`,
    );
    const v3Sha = bed.checkout.commit('v3');
    const child = startSluice(cliArgs(), { cwd: bed.checkout.dir });
    const output = collect(child);
    await waitForOutput(child, /\[host2\] v3 waits for a go/, 120_000);
    child.kill('SIGINT');
    await waitForOutput(child, /\[host2\] v3 stop waits/, 60_000);
    child.kill('SIGINT');
    const code = await exited(child);

    const text = output.text();
    assert.equal(code, 130, text);
    const v3Release = readdirSync(join(bed.ssh.host('host2').root, 'srv', 'releases')).find((id) =>
      id.endsWith(`-${v3Sha.slice(0, 7)}`),
    );
    assert.match(
      text,
      new RegExp(
        `SIGINT again: exiting now, before the rollback finished\\. Left behind:\\n  host2 \\(production\\): drained from the load balancer \\(its app may be stopped\\), on the new release ${v3Release ?? 'v3'} \\(it ran ${v1Release}\\)\\n`,
      ),
    );
    assert.ok(await bed.lb.drained('host2'), 'as it said: host2 is still drained');
    assert.equal((await bed.lb.serverStat('host3')).status, 'UP', 'host3 was never touched');
    // Let the stop hook end, so nothing waits on the host after the test.
    writeFileSync(join(bed.shared('host2'), 'go'), '');
  });
});

/** `/sluice <text>` as a signed Slack request; resolves with the answer, without waiting for what it started. */
async function commandNow(app: SlackSluice, text: string, user: string): Promise<Record<string, unknown>> {
  const id = `now-${++commands}`;
  const reply = await sendSlackRequest(
    app.sluice.url,
    signSlackRequest(slashCommand(text, user, app.slack.responseUrl(id))),
  );
  assert.equal(reply.status, 200);
  return until(`the answer to /sluice ${text}`, async () => app.slack.responses.find((r) => r.id === id)?.body, 30_000);
}
let commands = 0;

function collect(child: ChildProcess): { text(): string } {
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  return { text: () => text };
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('close', (code) => resolve(code)));
}
