/**
 * A drain that does not finish in time (a client holds a slow request past
 * the load balancer's `timeout`) fails the deploy before the running app is
 * stopped. The host is put back in service as it was, UP and serving the
 * release it ran, instead of being left draining in HAProxy.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freeLoopbackPort, startHaproxy, type RunningHaproxy } from '../helpers/haproxy.ts';
import { runSluice } from '../helpers/run-sluice.ts';
import { startSshHosts, type SshHosts } from '../helpers/ssh-hosts.ts';
import { makeCheckout, type TempCheckout } from '../helpers/temp-checkout.ts';

const fixtureApp = fileURLToPath(new URL('../fixtures/app/', import.meta.url));

const pipeline = `stages:
  - name: build
    actions:
      - name: package
        build:
          host: local
          run: ["node --check server.js"]
          artifact: { name: app, paths: [server.js, deploy, VERSION, package.json] }
  - name: production
    actions:
      - name: deploy
        deploy: { environment: production, artifact: app }
app:
  hooks:
    stop: ["sh deploy/stop.sh"]
    start: ["sh deploy/start.sh"]
  health:
    command: '. "$SLUICE_DEPLOY_PATH/shared/app.env"; curl -fsS "http://127.0.0.1:$PORT/health"'
    timeout: 5s
    interval: 100ms
`;

let ssh: SshHosts;
let lb: RunningHaproxy;
let checkout: TempCheckout;
let shared: string;

before(async () => {
  ssh = await startSshHosts(1);
  const host = ssh.hosts[0]!;
  const port = await freeLoopbackPort();
  shared = join(host.root, 'srv', 'shared');
  mkdirSync(shared, { recursive: true });
  writeFileSync(join(shared, 'app.env'), `PORT=${port}\nHOST_NAME=${host.name}\nNODE=${process.execPath}\n`);
  lb = await startHaproxy({ backends: [{ name: host.name, port }], requestTimeoutMs: 120_000 });
  checkout = makeCheckout({ 'README.md': 'The fixture app, deployed by Sluice.\n' });
  cpSync(fixtureApp, checkout.dir, { recursive: true });
  writeFileSync(
    join(checkout.scratch, 'server.yml'),
    `ssh: { user: ${ssh.user}, key: ${ssh.keyPath}, known_hosts: ${ssh.knownHostsPath} }
hosts:
  local: [local]
local: { repos: ['*'] }
environments:
  production:
    hosts: [{ name: ${host.name}, address: 127.0.0.1, port: ${host.port} }]
    path: ${join(ssh.deployRoot, 'srv')}
    load_balancer: { haproxy: { socket: ${lb.socketPath}, backend: app, timeout: 1s } }
`,
  );
});

after(async () => {
  try {
    process.kill(Number(readFileSync(join(shared, 'app.pid'), 'utf8')), 'SIGKILL');
  } catch {
    // not running
  }
  await lb?.stop();
  await ssh?.stop();
  checkout?.remove();
});

function rollOut(version: string) {
  checkout.write('VERSION', `${version}\n`);
  checkout.write('.github/sluice.yml', pipeline);
  checkout.commit(version);
  return runSluice(['run', '--server', join(checkout.scratch, 'server.yml'), '--data-dir', join(checkout.scratch, 'data')], { cwd: checkout.dir, timeoutMs: 120_000 });
}

async function inFlight(): Promise<void> {
  while ((await lb.serverStat('host1')).currentSessions === 0) await new Promise((resolve) => setImmediate(resolve));
}

test('a drain that runs out of time puts the host back in service on the release it still runs, UP', async () => {
  const good = await rollOut('v1');
  assert.equal(good.code, 0, good.stdout + good.stderr);
  await lb.waitUntilUp('host1');
  const srv = join(ssh.hosts[0]!.root, 'srv');
  const v1 = readlinkSync(join(srv, 'current')).split('/').at(-1)!;

  // Held past the whole deploy; let go once the host is checked.
  const client = new AbortController();
  const slow = fetch(`http://127.0.0.1:${lb.port}/slow?ms=60000`, { signal: client.signal }).catch(() => undefined);
  await inFlight();
  const failed = await rollOut('v2');
  assert.equal(failed.code, 1, failed.stdout + failed.stderr);
  assert.match(failed.stdout, /host1: the drain command failed: app\/host1 still had 1 open sessions after 1000 ms/);
  assert.match(failed.stdout, /\[host1\] back in the load balancer/);
  assert.doesNotMatch(failed.stdout, /not rolled back|\[host1\] stop: /);

  assert.equal(readlinkSync(join(srv, 'current')), `releases/${v1}`);
  assert.equal((await lb.serverStat('host1')).status, 'UP');
  const response = await fetch(`http://127.0.0.1:${lb.port}/`);
  assert.equal(response.status, 200);
  assert.equal((await response.text()).split(' ')[0], 'v1');
  client.abort();
  await slow;
});
