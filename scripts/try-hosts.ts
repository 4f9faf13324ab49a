/**
 * Try Sluice's deploys from a terminal, on this machine alone: starts real
 * sshd "hosts" on loopback ports (each with its own filesystem view of the
 * deploy path) and HAProxy in front of the example app's ports, writes a
 * server config and a checkout of the example app, and prints what to run.
 * Ctrl-C (or an hour) stops everything. Needs openssh-server and haproxy.
 *
 *   node scripts/try-hosts.ts [--hosts 2] [--dir ./try]
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeAppEnvs } from '../test/helpers/app-bed.ts';
import { startHaproxy } from '../test/helpers/haproxy.ts';
import { pipelineFixture } from '../test/helpers/pipeline-fixture.ts';
import { productionOnHosts, startSshHosts } from '../test/helpers/ssh-hosts.ts';

const { values } = parseArgs({
  options: { hosts: { type: 'string', default: '2' }, dir: { type: 'string', default: 'try' } },
});
const count = Number(values.hosts);
if (!Number.isInteger(count) || count < 1 || count > 16) throw new Error('--hosts takes a number from 1 to 16');
const dir = resolve(values.dir);
const app = join(dir, 'app');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });

const ssh = await startSshHosts(count);
const ports = await writeAppEnvs(ssh, 'STARTUP_DELAY_MS=400\n');
const lb = await startHaproxy({ backends: ssh.hosts.map((h) => ({ name: h.name, port: ports[h.name]! })) });

writeFileSync(
  join(dir, 'sluice.config.yml'),
  `# Written by scripts/try-hosts.ts: ${count} loopback hosts behind HAProxy.
${productionOnHosts(ssh, { rolling: 'batch: 1, min_healthy: 1', drainThrough: lb.socketPath })}`,
);
cpSync(fileURLToPath(new URL('../test/fixtures/app/', import.meta.url)), app, { recursive: true });
mkdirSync(join(app, '.github'), { recursive: true });
writeFileSync(
  join(app, '.github', 'sluice.yml'),
  pipelineFixture('app-to-production', (pipeline) => {
    pipeline.app!.health!.timeout = '10s';
  }),
);
writeFileSync(join(app, 'VERSION'), 'v1\n');
const git = (...args: string[]) => execFileSync('git', args, { cwd: app, stdio: 'ignore' });
git('init', '-q', '-b', 'main');
git('-c', 'user.name=Sluice', '-c', 'user.email=sluice@localhost', 'add', '-A');
git('-c', 'user.name=Sluice', '-c', 'user.email=sluice@localhost', 'commit', '-q', '-m', 'v1');

console.log(`${count} hosts (${ssh.hosts.map((h) => `${h.name} on 127.0.0.1:${h.port}`).join(', ')}) and HAProxy on http://127.0.0.1:${lb.port}/ are up.

In another terminal:
  cd ${app}
  npx --prefix ${fileURLToPath(new URL('..', import.meta.url))} sluice run --server ../sluice.config.yml --data-dir ../data
  curl http://127.0.0.1:${lb.port}/          # v1 host1 …
  echo v2 > VERSION && git commit -qam v2 && npx --prefix ${fileURLToPath(new URL('..', import.meta.url))} sluice run --server ../sluice.config.yml --data-dir ../data

Ctrl-C stops the hosts, HAProxy and the app.`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  for (const host of ssh.hosts) {
    try {
      process.kill(Number(readFileSync(join(host.root, 'srv', 'shared', 'app.pid'), 'utf8')), 'SIGTERM');
    } catch {
      // not started
    }
  }
  await lb.stop();
  await ssh.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
setTimeout(() => void stop(), 60 * 60_000).unref();
setInterval(() => {}, 60_000);
