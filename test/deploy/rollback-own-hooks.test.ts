/**
 * A rollback starts the release it goes back to with that release's own
 * hooks: a new pipeline whose start hook is broken (a one-line `nohup … &`
 * that exits 1) is rolled back over SSH, and the previous release serves
 * again through HAProxy, its host UP.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, readlinkSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freeLoopbackPort, startHaproxy, type RunningHaproxy } from '../helpers/haproxy.ts';
import { runSluice } from '../helpers/run-sluice.ts';
import { startSshHosts, type SshHosts } from '../helpers/ssh-hosts.ts';
import { makeCheckout, type TempCheckout } from '../helpers/temp-checkout.ts';

const fixtureApp = fileURLToPath(new URL('../fixtures/app/', import.meta.url));

const pipeline = (start: string) => `stages:
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
    start: [${JSON.stringify(start)}]
  health:
    command: '. "$SLUICE_DEPLOY_PATH/shared/app.env"; curl -fsS "http://127.0.0.1:$PORT/health"'
    timeout: 5s
    interval: 100ms
`;

let ssh: SshHosts;
let lb: RunningHaproxy;
let checkout: TempCheckout;
let port: number;

before(async () => {
  ssh = await startSshHosts(1);
  const host = ssh.hosts[0]!;
  port = await freeLoopbackPort();
  const shared = join(host.root, 'srv', 'shared');
  mkdirSync(shared, { recursive: true });
  writeFileSync(join(shared, 'app.env'), `PORT=${port}\nHOST_NAME=${host.name}\nNODE=${process.execPath}\n`);
  lb = await startHaproxy({ backends: [{ name: host.name, port }] });
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
    load_balancer: { haproxy: { socket: ${lb.socketPath}, backend: app, timeout: 10s } }
`,
  );
});

after(async () => {
  try {
    process.kill(Number(readFileSync(join(ssh.hosts[0]!.root, 'srv', 'shared', 'app.pid'), 'utf8')), 'SIGKILL');
  } catch {
    // not running
  }
  await lb?.stop();
  await ssh?.stop();
  checkout?.remove();
});

function rollOut(version: string, start: string) {
  checkout.write('VERSION', `${version}\n`);
  checkout.write('.github/sluice.yml', pipeline(start));
  checkout.commit(version);
  return runSluice(['run', '--server', join(checkout.scratch, 'server.yml'), '--data-dir', join(checkout.scratch, 'data')], { cwd: checkout.dir, timeoutMs: 120_000 });
}

async function throughLoadBalancer(): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${lb.port}/`);
  assert.equal(response.status, 200);
  return (await response.text()).split(' ')[0]!;
}

test('a new release whose start hook is broken is rolled back, and the previous release starts with its own hooks and serves again, UP', async () => {
  const good = await rollOut('v1', 'sh deploy/start.sh');
  assert.equal(good.code, 0, good.stdout + good.stderr);
  await lb.waitUntilUp('host1');
  const srv = join(ssh.hosts[0]!.root, 'srv');
  const v1 = readlinkSync(join(srv, 'current')).split('/').at(-1)!;

  const broken = await rollOut('v2', 'nohup node no-such-server.js & exit 1');
  assert.equal(broken.code, 1, broken.stdout + broken.stderr);
  const why = broken.stdout.search(new RegExp(`host1: start hook "nohup node no-such-server\\.js & exit 1" exited with code 1; rolling back host1 to ${v1}`));
  assert.ok(why >= 0, broken.stdout);
  assert.ok(why < broken.stdout.indexOf(`[host1] rolling back to ${v1}`), 'the log says why before it rolls back');
  assert.match(broken.stdout, new RegExp(`rolled back host1 to ${v1}`));
  assert.doesNotMatch(broken.stdout, /not rolled back/);

  assert.equal(readlinkSync(join(srv, 'current')), `releases/${v1}`);
  assert.equal(readdirSync(join(srv, 'releases')).length, 2);
  await lb.waitUntilUp('host1');
  assert.equal((await lb.serverStat('host1')).status, 'UP');
  assert.equal(await throughLoadBalancer(), 'v1');
});
