/**
 * Hosts as they are found in the field, over SSH with HAProxy. The
 * connection to a host drops while its new release starts (the sshd serving
 * it is killed; sshd itself stays up): the rollback connects to the host
 * again and puts the previous release back, UP, instead of leaving the host
 * drained with its app stopped. A `current` that points at a release removed
 * by hand, or that is a directory of its own, stops a deploy before it
 * drains anything.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freeLoopbackPort, startHaproxy, type RunningHaproxy } from '../helpers/haproxy.ts';
import { runSluice, startSluice, waitForOutput } from '../helpers/run-sluice.ts';
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
let shared: string;

before(async () => {
  ssh = await startSshHosts(1);
  const host = ssh.hosts[0]!;
  const port = await freeLoopbackPort();
  shared = join(host.root, 'srv', 'shared');
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
  for (const file of ['app.pid', 'hook.pid']) {
    try {
      const pid = Number(readFileSync(join(shared, file), 'utf8'));
      // The hung hook is its own process group; the app a process of its own.
      process.kill(file === 'hook.pid' ? -pid : pid, 'SIGKILL');
    } catch {
      // not running
    }
  }
  await lb?.stop();
  await ssh?.stop();
  checkout?.remove();
});

function commit(version: string, start: string): string[] {
  checkout.write('VERSION', `${version}\n`);
  checkout.write('.github/sluice.yml', pipeline(start));
  checkout.commit(version);
  return ['run', '--server', join(checkout.scratch, 'server.yml'), '--data-dir', join(checkout.scratch, 'data')];
}

async function throughLoadBalancer(): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${lb.port}/`);
  assert.equal(response.status, 200);
  return (await response.text()).split(' ')[0]!;
}

test('the connection drops during the start hook: the rollback connects again and the previous release serves, UP', async () => {
  const good = await runSluice(commit('v1', 'sh deploy/start.sh'), { cwd: checkout.dir, timeoutMs: 120_000 });
  assert.equal(good.code, 0, good.stdout + good.stderr);
  await lb.waitUntilUp('host1');
  const srv = join(ssh.hosts[0]!.root, 'srv');
  const v1 = readlinkSync(join(srv, 'current')).split('/').at(-1)!;

  // A start hook that hangs; the test drops the connection while it runs.
  const child = startSluice(commit('v2', 'echo $$ > "$SLUICE_DEPLOY_PATH/shared/hook.pid"; echo v2-start-hangs; exec sleep 600'), { cwd: checkout.dir });
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  await waitForOutput(child, /v2-start-hangs/, 90_000);
  assert.ok((await ssh.signalConnections('host1', 'SIGKILL')).length > 0);

  assert.equal(await exited, 1, stdout);
  assert.match(stdout, /\[host1\] lost connection to .*; connecting again to roll it back/);
  assert.match(stdout, new RegExp(`rolled back host1 to ${v1}`));
  assert.doesNotMatch(stdout, /not rolled back/);
  assert.equal(readlinkSync(join(srv, 'current')), `releases/${v1}`);
  await lb.waitUntilUp('host1');
  assert.equal((await lb.serverStat('host1')).status, 'UP');
  assert.equal(await throughLoadBalancer(), 'v1');
});

test('current points at a release removed by hand: the deploy is refused before any host is drained, and says what to fix', async () => {
  await lb.waitUntilUp('host1');
  const srv = join(ssh.hosts[0]!.root, 'srv');
  const running = readlinkSync(join(srv, 'current')).split('/').at(-1)!;
  rmSync(join(srv, 'releases', running), { recursive: true, force: true });

  const refused = await runSluice(commit('v3', 'sh deploy/start.sh'), { cwd: checkout.dir, timeoutMs: 120_000 });
  assert.equal(refused.code, 1, refused.stdout + refused.stderr);
  assert.match(refused.stdout, new RegExp(`host1: current points at releases/${running}, which is not on the host`));
  assert.match(refused.stdout, /point current at a release that is there, then deploy again/);
  assert.doesNotMatch(refused.stdout, /drained from the load balancer/);
  assert.equal((await lb.serverStat('host1')).status, 'UP');
  assert.equal(await throughLoadBalancer(), 'v1');
});

test('current is a directory, not a link: the deploy is refused before any host is drained, and says what to fix', async () => {
  const srv = join(ssh.hosts[0]!.root, 'srv');
  rmSync(join(srv, 'current'), { force: true });
  mkdirSync(join(srv, 'current'));
  writeFileSync(join(srv, 'current', 'VERSION'), 'deployed by hand\n');

  const refused = await runSluice(commit('v4', 'sh deploy/start.sh'), { cwd: checkout.dir, timeoutMs: 120_000 });
  assert.equal(refused.code, 1, refused.stdout + refused.stderr);
  assert.match(refused.stdout, /host1: .*\/srv\/current is not a link to a release \(a directory or file put there by hand\?\), so no deploy can switch it; no host was taken out of service: move it away, then deploy again/);
  assert.doesNotMatch(refused.stdout, /drained from the load balancer/);
  assert.equal((await lb.serverStat('host1')).status, 'UP');
  assert.equal(await throughLoadBalancer(), 'v1');
});
