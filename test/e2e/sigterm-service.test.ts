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
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/open-store.ts';
import { heldCheckRuns, rerunPayload, waitForSluice } from '../helpers/fault-checks.ts';
import { GithubStandIn } from '../helpers/github-stand-in.ts';
import { pushPayload, sendWebhook, sha } from '../helpers/github-webhooks.ts';
import { freeLoopbackPort, startHaproxy, type RunningHaproxy } from '../helpers/haproxy.ts';
import { startMonitor } from '../helpers/request-monitor.ts';
import { githubAppEnv, startSluiceProcess, type SluiceProcess } from '../helpers/sluice-process.ts';
import { startSshHosts, type SshHosts } from '../helpers/ssh-hosts.ts';

const FIXTURE_APP = fileURLToPath(new URL('../fixtures/app/', import.meta.url));
const APP_HOSTS = ['host2', 'host3'] as const;
const REPO = 'acme/shop';
const SECRET = 'sigterm-webhook-secret';

let ssh: SshHosts;
let lb: RunningHaproxy;
let github: GithubStandIn;
let sluice: SluiceProcess | undefined;
let work = '';
let port = 0;
const appPorts: Record<string, number> = {};

/** v2's build waits for `build-go`; v3's validate hook waits for `go` on its host. */
function pipeline(): string {
  const gate = join(work, 'build-go');
  return `on:
  push:
    branches: [main]
stages:
  - name: build
    actions:
      - name: package
        build:
          host: builder
          run: ['if [ "$(cat VERSION)" = v2 ] && [ ! -e ${gate} ]; then touch ${join(work, 'build-started')}; while [ ! -e ${gate} ]; do sleep 0.1; done; fi', "node --check server.js"]
          artifact: { name: app, paths: [server.js, deploy, VERSION, package.json] }
  - name: production
    actions:
      - name: deploy
        deploy: { environment: production, artifact: app }
app:
  hooks:
    stop: ["sh deploy/stop.sh"]
    start: ["sh deploy/start.sh"]
    validate:
      - 'if [ "$(cat VERSION)" = v3 ] && [ ! -e "$SLUICE_DEPLOY_PATH/shared/go" ]; then touch "$SLUICE_DEPLOY_PATH/shared/validating"; while [ ! -e "$SLUICE_DEPLOY_PATH/shared/go" ]; do sleep 0.1; done; fi'
  health:
    command: '. "$SLUICE_DEPLOY_PATH/shared/app.env"; curl -fsS "http://127.0.0.1:$PORT/health"'
    timeout: 10s
    interval: 100ms
`;
}

function appFiles(version: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else files[relative(FIXTURE_APP, path)] = readFileSync(path, 'utf8');
    }
  };
  walk(FIXTURE_APP);
  return { ...files, VERSION: `${version}\n`, '.github/sluice.yml': pipeline() };
}

function serverConfig(): string {
  const host = (name: string) => `{ name: ${name}, address: 127.0.0.1, port: ${ssh.host(name).port} }`;
  return `ssh: { user: ${ssh.user}, key: ${ssh.keyPath}, known_hosts: ${ssh.knownHostsPath} }
hosts:
  builder: [${host('host1')}]
environments:
  production:
    hosts: [${host('host2')}, ${host('host3')}]
    path: ${join(ssh.deployRoot, 'srv')}
    rolling: { batch: 1, min_healthy: 1 }
    load_balancer: { haproxy: { socket: ${lb.socketPath}, backend: app, timeout: 10s } }
recovery:
  retry_interrupted_builds: true
`;
}

const env = () => ({
  SLUICE_CONFIG: join(work, 'server.yml'),
  SLUICE_DATA_DIR: join(work, 'data'),
  SLUICE_STOP_GRACE: '1s',
  ...githubAppEnv(github, SECRET),
});
const start = async () => (sluice = await startSluiceProcess({ cwd: work, port, env: env() }));
const waitFor = (what: string, check: () => boolean | Promise<boolean>) => waitForSluice(sluice, what, check, 180_000);
const concluded = (name: string, commit: string) => heldCheckRuns(github, name, commit).at(-1)?.conclusion;
const served = async (appPort: number) => (await (await fetch(`http://127.0.0.1:${appPort}/`)).text()).split(' ')[0];
const currentRelease = (name: string) =>
  readlinkSync(join(ssh.host(name).root, 'srv', 'current'))
    .split('/')
    .at(-1);

async function assertAllServe(version: string): Promise<void> {
  for (const name of APP_HOSTS) {
    await lb.waitUntilUp(name);
    assert.equal((await lb.serverStat(name)).status, 'UP', `${name} is in the load balancer`);
    assert.equal(await served(appPorts[name]!), version, `${name} serves ${version}`);
  }
}

/** SIGTERM, and the exit code, once Sluice has exited. */
async function sigterm(): Promise<number | null> {
  const child = sluice!.child;
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exit;
}

/** What the stopped process left in its data: running actions whose claim no longer holds. */
async function releasedClaims(): Promise<string[]> {
  const store = await openStore({ dataDir: join(work, 'data') });
  try {
    return (await store.listExpiredClaims(Date.now(), 0)).map((ref) => `${ref.stage}/${ref.action}`);
  } finally {
    await store.close();
  }
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'sluice-sigterm-'));
  ssh = await startSshHosts(3);
  for (const name of APP_HOSTS) {
    appPorts[name] = await freeLoopbackPort();
    const shared = join(ssh.host(name).root, 'srv', 'shared');
    mkdirSync(shared, { recursive: true });
    writeFileSync(
      join(shared, 'app.env'),
      `PORT=${appPorts[name]}\nHOST_NAME=${name}\nNODE=${process.execPath}\nSTARTUP_DELAY_MS=200\n`,
    );
  }
  lb = await startHaproxy({ backends: APP_HOSTS.map((name) => ({ name, port: appPorts[name]! })) });
  github = await new GithubStandIn().start();
  github.install(REPO);
  writeFileSync(join(work, 'server.yml'), serverConfig());
  port = await freeLoopbackPort();
  await start();
  github.addCommit(REPO, sha(1), appFiles('v1'));
  assert.equal(
    (await sendWebhook(sluice!.url, SECRET, 'push', pushPayload({ repo: REPO, after: sha(1) }))).status,
    200,
  );
  await waitFor('v1 in production', () => concluded('Sluice: production', sha(1)) === 'success');
  await assertAllServe('v1');
});

after(async () => {
  await sluice?.kill();
  for (const name of APP_HOSTS) {
    try {
      process.kill(Number(readFileSync(join(ssh.host(name).root, 'srv', 'shared', 'app.pid'), 'utf8')), 'SIGKILL');
    } catch {
      // not running
    }
  }
  await github?.stop();
  await lb?.stop();
  await ssh?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('SIGTERM of the service', { timeout: 600_000 }, () => {
  test('mid-build: the build is stopped after the grace period with its claim released, and the next start retries it to the end', async () => {
    github.addCommit(REPO, sha(2), appFiles('v2'));
    assert.equal(
      (await sendWebhook(sluice!.url, SECRET, 'push', pushPayload({ repo: REPO, after: sha(2) }))).status,
      200,
    );
    await waitFor('the v2 build to be running', () => existsSync(join(work, 'build-started')));

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

    writeFileSync(join(work, 'build-go'), '');
    await start();
    await waitFor('the retried v2 build and its deploy', () => concluded('Sluice: production', sha(2)) === 'success');
    assert.equal(concluded('Sluice: build', sha(2)), 'success');
    assert.match(
      sluice!.output(),
      /build\/package started \(attempt 2\)/,
      'the build ran again, as retry_interrupted_builds asks',
    );
    await assertAllServe('v2');
  });

  test('mid-deploy: the drained host goes back with no failed request, the deploy is left interrupted, and after the next start a re-run finishes it', async () => {
    const v2Release = currentRelease('host2');
    const monitor = startMonitor({ url: `http://127.0.0.1:${lb.port}/`, maxRequests: 9000, maxDurationMs: 170_000 });
    await monitor.waitForMore(10);
    github.addCommit(REPO, sha(3), appFiles('v3'));
    assert.equal(
      (await sendWebhook(sluice!.url, SECRET, 'push', pushPayload({ repo: REPO, after: sha(3) }))).status,
      200,
    );
    await waitFor('host2 to be validating v3', () =>
      existsSync(join(ssh.host('host2').root, 'srv', 'shared', 'validating')),
    );
    assert.equal((await lb.serverStat('host2')).status, 'DRAIN');

    assert.equal(await sigterm(), 0, sluice!.output());
    assert.match(
      sluice!.output(),
      /The grace period \(1s\) is over: stopping production\/deploy \(a deploy first puts back the hosts it touched\)/,
    );
    await assertAllServe('v2');
    for (const name of APP_HOSTS) assert.equal(currentRelease(name), v2Release, `${name} is back on ${v2Release}`);
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
    for (const name of APP_HOSTS) writeFileSync(join(ssh.host(name).root, 'srv', 'shared', 'go'), '');
    assert.equal(
      (await sendWebhook(sluice!.url, SECRET, 'check_run', rerunPayload(github, production, REPO, sha(3)))).status,
      200,
    );
    await waitFor('the re-run v3 deploy', () => concluded('Sluice: production', sha(3)) === 'success');
    await assertAllServe('v3');
  });
});
