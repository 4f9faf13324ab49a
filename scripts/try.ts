/**
 * `npm run try`: the seed's experiment, in one command, on this machine
 * alone. Two real sshd hosts on loopback ports behind HAProxy, a monitor
 * sending a request every 20 ms through HAProxy, and an example app whose
 * pipeline builds it, deploys it to dev, asks for approval (on this
 * terminal) and rolls it out to production host by host, drained. Then the
 * version changes and it runs again. At the end: each stage's time, the
 * version each host serves, and how many of the monitor's requests failed.
 * Ctrl-C, or the end, stops everything it started.
 *
 *   npm run try [-- --keep]      --keep: leave it all running until Ctrl-C
 */
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { quoteArg } from '../src/executor/shell-quote.ts';
import { formatDuration } from '../src/format-duration.ts';
import type { ExecutionSummary } from '../src/store/store.ts';
import { freeLoopbackPort } from '../test/helpers/free-port.ts';
import { startHaproxy } from '../test/helpers/haproxy.ts';
import { pipelineFixture } from '../test/helpers/pipeline-fixture.ts';
import { startMonitor } from '../test/helpers/request-monitor.ts';
import { startSshHosts } from '../test/helpers/ssh-hosts.ts';

const { values } = parseArgs({ options: { keep: { type: 'boolean', default: false } } });
const SLUICE = fileURLToPath(new URL('../bin/sluice.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sluice-try-'));
const app = join(dir, 'app');
const say = (line: string) => process.stdout.write(`\x1b[1m▸ ${line}\x1b[0m\n`);

// 1. Two hosts, each with a production and a dev deploy path of its own, and HAProxy before production.
say('starting two sshd hosts on loopback ports and HAProxy in front of them');
const ssh = await startSshHosts(2);
const stops: Array<() => Promise<void> | void> = [() => ssh.stop()];
const appPorts: Record<string, { production: number; dev: number }> = {};
for (const host of ssh.hosts) {
  appPorts[host.name] = { production: await freeLoopbackPort(), dev: await freeLoopbackPort() };
  for (const environment of ['production', 'dev'] as const) {
    mkdirSync(join(host.root, environment, 'shared'), { recursive: true });
    writeFileSync(
      join(host.root, environment, 'shared', 'app.env'),
      `PORT=${appPorts[host.name]![environment]}\nHOST_NAME=${host.name}\nNODE=${quoteArg(process.execPath)}\nSTARTUP_DELAY_MS=400\n`,
    );
  }
}
const lb = await startHaproxy({
  backends: ssh.hosts.map((h) => ({ name: h.name, port: appPorts[h.name]!.production })),
});
stops.unshift(() => lb.stop());
stops.unshift(() => {
  for (const host of ssh.hosts) {
    for (const environment of ['production', 'dev']) {
      try {
        process.kill(Number(readFileSync(join(host.root, environment, 'shared', 'app.pid'), 'utf8')), 'SIGTERM');
      } catch {
        // never started
      }
    }
  }
});

let stopping: Promise<void> | undefined;
const stopAll = () =>
  (stopping ??= (async () => {
    for (const stop of stops) await Promise.resolve(stop()).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  })());
process.on('SIGINT', () => void stopAll().then(() => process.exit(130)));
process.on('SIGTERM', () => void stopAll().then(() => process.exit(143)));

// 2. The operator's config and the example app's checkout.
const host = (h: (typeof ssh.hosts)[number]) => `{ name: ${h.name}, address: 127.0.0.1, port: ${h.port} }`;
writeFileSync(
  join(dir, 'sluice.config.yml'),
  `ssh: { user: ${ssh.user}, key: ${ssh.keyPath}, known_hosts: ${ssh.knownHostsPath} }
hosts:
  local: [local]
# The example app builds on this machine: a grant the operator gives per repository.
local: { repos: ["*"] }
environments:
  dev:
    hosts: [${host(ssh.hosts[0]!)}]
    path: ${join(ssh.deployRoot, 'dev')}
  production:
    hosts: [${ssh.hosts.map(host).join(', ')}]
    path: ${join(ssh.deployRoot, 'production')}
    rolling: { batch: 1, min_healthy: 1 }
    load_balancer: { haproxy: { socket: ${lb.socketPath}, backend: app } }
    # With Slack, the approval card would go to this channel; here the terminal decides.
    approval: { slack_channel: C0TRYSLCK, approvers: [U0TRYSLCK] }
`,
);
cpSync(fileURLToPath(new URL('../test/fixtures/app/', import.meta.url)), app, { recursive: true });
mkdirSync(join(app, '.github'), { recursive: true });
writeFileSync(join(app, '.github', 'sluice.yml'), pipelineFixture('app-through-dev'));
const git = (...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=Sluice', '-c', 'user.email=sluice@localhost', ...args], {
    cwd: app,
    stdio: 'ignore',
  });
const commit = (version: string) => {
  writeFileSync(join(app, 'VERSION'), `${version}\n`);
  git('add', '-A');
  git('commit', '-q', '-m', version);
};
git('init', '-q', '-b', 'main');
commit('v1');

// 3. v1 goes out to empty hosts; then v2 replaces it while the monitor, one
// request every 20 ms through HAProxy (bounded in count and time), counts
// every request that fails. Each `sluice run` asks for production's approval
// on this terminal.
let monitor: ReturnType<typeof startMonitor> | undefined;
const runs: Array<{ version: string; seq: number }> = [];
for (const version of ['v1', 'v2']) {
  if (version !== 'v1') {
    say(`v1 serves; the monitor starts sending a request every 20 ms through HAProxy`);
    monitor = startMonitor({
      url: `http://127.0.0.1:${lb.port}/`,
      intervalMs: 20,
      maxRequests: 60_000,
      maxDurationMs: 20 * 60_000,
    });
    stops.unshift(() => void monitor?.stop());
    commit(version);
  }
  say(`sluice run: ${version} through build → dev → approval → production`);
  const code = await sluice([
    'run',
    '--server',
    '../sluice.config.yml',
    '--data-dir',
    '../data',
    ...(process.stdin.isTTY ? [] : ['--approve', 'yes']),
  ]);
  const [latest] = JSON.parse(await capture(['status', '--json', '--limit', '1', '--data-dir', '../data'])) as Array<{
    seq: number;
    status: string;
  }>;
  if (latest) runs.push({ version, seq: latest.seq });
  if (code !== 0 || latest?.status !== 'succeeded') {
    say(
      `${version} did not go out (${latest ? `execution #${latest.seq} ${latest.status}` : 'no execution started'}); stopping here.`,
    );
    break;
  }
}
const result = monitor ? await monitor.stop() : { sent: 0, failures: [] };

// 4. The summary.
say('summary');
for (const run of runs) {
  const execution = JSON.parse(
    await capture(['status', String(run.seq), '--json', '--data-dir', '../data']),
  ) as ExecutionSummary;
  const stages = execution.stages.map((s) => {
    const started = Math.min(...s.actions.map((a) => a.startedAt ?? Infinity));
    const finished = Math.max(...s.actions.map((a) => a.finishedAt ?? -Infinity));
    return `${s.name} ${s.status}${Number.isFinite(started) && Number.isFinite(finished) ? ` ${formatDuration(finished - started)}` : ''}`;
  });
  console.log(`  ${run.version} (execution #${run.seq}, ${execution.status}): ${stages.join(' · ')}`);
}
for (const h of ssh.hosts) {
  const production = await get(appPorts[h.name]!.production);
  const dev = h === ssh.hosts[0] ? `, dev: ${await get(appPorts[h.name]!.dev)}` : '';
  console.log(`  ${h.name} serves production: ${production}${dev}`);
}
console.log(
  `  the monitor sent ${result.sent} requests through HAProxy while v2 replaced v1: ${result.failures.length} failed`,
);
for (const failure of result.failures.slice(0, 5))
  console.log(`    failed at ${new Date(failure.at).toISOString()}: ${failure.status ?? failure.error}`);

if (values.keep) {
  console.log(`\nStill running: HAProxy at http://127.0.0.1:${lb.port}/, the app in ${app}. Ctrl-C stops everything.`);
  setInterval(() => {}, 60_000);
} else {
  await stopAll();
  process.exit(result.failures.length === 0 && runs.length === 2 ? 0 : 1);
}

function sluice(args: string[]): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SLUICE, ...args], { cwd: app, stdio: 'inherit' });
    child.on('close', resolve);
  });
}

function capture(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SLUICE, ...args], { cwd: app, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`sluice ${args.join(' ')} exited with ${code}`)),
    );
  });
}

function get(port: number): Promise<string> {
  return new Promise((resolve) => {
    request({ host: '127.0.0.1', port, path: '/', timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body.trim().split(' ').slice(0, 1).join(' ') || `HTTP ${res.statusCode}`));
    })
      .on('error', (error) => resolve(`nothing (${(error as NodeJS.ErrnoException).code ?? error.message})`))
      .on('timeout', function (this: { destroy(): void }) {
        this.destroy();
      })
      .end();
  });
}
