/**
 * PostgreSQL goes away while a deploy runs over SSH (`sluice run` on
 * PostgreSQL). The deploy can no longer renew its environment lock, so it
 * stops and puts its host back: UP in HAProxy, serving the release it ran.
 * Once the database is back, the execution is recorded as it ended.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freeLoopbackPort, startHaproxy, type RunningHaproxy } from '../helpers/haproxy.ts';
import { runSluice, startSluice, waitForOutput } from '../helpers/run-sluice.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { startSshHosts, type SshHosts } from '../helpers/ssh-hosts.ts';
import { makeCheckout, type TempCheckout } from '../helpers/temp-checkout.ts';

const fixtureApp = fileURLToPath(new URL('../fixtures/app/', import.meta.url));

const pipeline = (validate: string) => `stages:
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
    validate: [${JSON.stringify(validate)}]
  health:
    command: '. "$SLUICE_DEPLOY_PATH/shared/app.env"; curl -fsS "http://127.0.0.1:$PORT/health"'
    timeout: 5s
    interval: 100ms
`;

let ssh: SshHosts;
let lb: RunningHaproxy;
let checkout: TempCheckout;
let postgres: TestPostgres;
let shared: string;

before(async () => {
  postgres = await startPostgres();
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
  try {
    process.kill(Number(readFileSync(join(shared, 'app.pid'), 'utf8')), 'SIGKILL');
  } catch {
    // not running
  }
  await lb?.stop();
  await ssh?.stop();
  await postgres?.stop();
  checkout?.remove();
});

function commit(version: string, validate: string): string[] {
  checkout.write('VERSION', `${version}\n`);
  checkout.write('.github/sluice.yml', pipeline(validate));
  checkout.commit(version);
  return ['run', '--server', join(checkout.scratch, 'server.yml'), '--database-url', postgres.url];
}

test('PostgreSQL halted during a deploy: the deploy stops, its host goes back UP on the release it ran, and the execution is recorded once the database is back', { timeout: 300_000 }, async () => {
  const good = await runSluice(commit('v1', 'true'), { cwd: checkout.dir, timeoutMs: 120_000 });
  assert.equal(good.code, 0, good.stdout + good.stderr);
  await lb.waitUntilUp('host1');
  const srv = join(ssh.hosts[0]!.root, 'srv');
  const v1 = readlinkSync(join(srv, 'current')).split('/').at(-1)!;

  const child = startSluice(commit('v2', `echo v2 waits; while [ ! -e ${join(ssh.deployRoot, 'never')} ]; do sleep 0.1; done`), { cwd: checkout.dir });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  await waitForOutput(child, /\[host1\] v2 waits/, 120_000);
  await postgres.halt();
  await waitForOutput(child, /rolled back host1|not rolled back/, 120_000);
  await lb.waitUntilUp('host1');
  assert.equal((await lb.serverStat('host1')).status, 'UP');
  assert.equal(readlinkSync(join(srv, 'current')), `releases/${v1}`);
  await postgres.resume();
  assert.equal(await exited, 1, output);
  assert.match(output, new RegExp(`lost the lock on environment "production" \\(Sluice's database failed as it renewed the lock: .*\\): .*rolled back host1 to ${v1}`));
  assert.equal(await throughLoadBalancer(), 'v1');
  // Every error Sluice prints says what it was doing.
  assert.doesNotMatch(output, /Sluice error: connect ECONNREFUSED/);

  const status = await runSluice(['status', '2', '--database-url', postgres.url], { cwd: checkout.dir });
  assert.equal(status.code, 0, status.stdout + status.stderr);
  assert.match(status.stdout, /production\/deploy.*failed/);
  assert.match(status.stdout, new RegExp(`rolled back host1 to ${v1}`));
});

async function throughLoadBalancer(): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${lb.port}/`);
  assert.equal(response.status, 200);
  return (await response.text()).split(' ')[0]!;
}
