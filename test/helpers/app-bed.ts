/**
 * What a deploy test runs against: the fixture app (test/fixtures/app) in a
 * git checkout, N real sshd hosts with its `shared/app.env` written, HAProxy
 * in front of them, and a server config for `sluice run` that puts the hosts
 * in a `production` environment drained through that HAProxy. The fixture
 * pipeline (test/fixtures/pipelines/app-to-production.yml) builds the app
 * locally and deploys it with its own hook scripts; a test changes only the
 * hook or health check it is about.
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeLoopbackPort, startHaproxy, type HaproxyOptions, type RunningHaproxy } from './haproxy.ts';
import { pipelineFixture } from './pipeline-fixture.ts';
import { startSshHosts, type SshHosts } from './ssh-hosts.ts';
import { makeCheckout, type TempCheckout } from './temp-checkout.ts';

const fixtureApp = fileURLToPath(new URL('../fixtures/app/', import.meta.url));

export interface FixturePipelineOptions {
  /** The start hook (default the app's `sh deploy/start.sh`). */
  start?: string;
  /** A validate hook, if any. */
  validate?: string;
  /** The health command (default: the app answers on its port) and its timeout. */
  health?: string;
  healthTimeout?: string;
}

/** Build the fixture app on this machine, deploy it to `production` with its own stop and start scripts. */
export function fixturePipeline(options: FixturePipelineOptions = {}): string {
  if (Object.keys(options).length === 0) return pipelineFixture('app-to-production');
  return pipelineFixture('app-to-production', (pipeline) => {
    const app = pipeline.app!;
    if (options.start) app.hooks.start = [options.start];
    if (options.validate) app.hooks.validate = [options.validate];
    if (options.health) app.health!.command = options.health;
    if (options.healthTimeout) app.health!.timeout = options.healthTimeout;
  });
}

export interface ServerOptions {
  /** Drain through HAProxy (default), or not at all. */
  drain?: boolean;
  /** How long a drain may wait for open requests (default 10s). */
  drainTimeout?: string;
}

export interface AppBed {
  ssh: SshHosts;
  lb: RunningHaproxy;
  checkout: TempCheckout;
  /** The app's port on each host, by host name. */
  ports: Record<string, number>;
  /** A host's `shared/` directory, where `app.env`, `app.pid` and the hooks' marks live. */
  shared(host?: string): string;
  /** The server config as `sluice run --server` reads it; `drain: false` leaves the load balancer out. */
  serverConfig(options?: ServerOptions): string;
  /** `sluice run` for the checkout: the server config written beside it, the data directory in its scratch (or PostgreSQL). */
  runArgs(options?: ServerOptions & { databaseUrl?: string }): string[];
  /** Stops the apps, HAProxy and the hosts, and removes the checkout. */
  stop(): Promise<void>;
}

export async function startAppBed(
  options: { hosts?: number; haproxy?: Partial<HaproxyOptions>; appEnv?: string } = {},
): Promise<AppBed> {
  const ssh = await startSshHosts(options.hosts ?? 1);
  const ports: Record<string, number> = {};
  const shared = (name = ssh.hosts[0]!.name) => join(ssh.host(name).root, 'srv', 'shared');
  let lb: RunningHaproxy | undefined;
  const checkout = makeCheckout({ 'README.md': 'The fixture app, deployed by Sluice.\n' });
  const stop = async () => {
    for (const host of ssh.hosts) killApp(join(shared(host.name), 'app.pid'));
    await lb?.stop();
    await ssh.stop();
    checkout.remove();
  };
  try {
    cpSync(fixtureApp, checkout.dir, { recursive: true });
    for (const host of ssh.hosts) {
      ports[host.name] = await freeLoopbackPort();
      mkdirSync(shared(host.name), { recursive: true });
      writeFileSync(
        join(shared(host.name), 'app.env'),
        `PORT=${ports[host.name]}\nHOST_NAME=${host.name}\nNODE="${process.execPath}"\n${options.appEnv ?? ''}`,
      );
    }
    lb = await startHaproxy({
      ...options.haproxy,
      backends: ssh.hosts.map((h) => ({ name: h.name, port: ports[h.name]! })),
    });
  } catch (error) {
    await stop();
    throw error;
  }
  const balancer = lb;
  const serverConfig = ({ drain = true, drainTimeout = '10s' }: ServerOptions = {}) =>
    `ssh: { user: ${ssh.user}, key: ${ssh.keyPath}, known_hosts: ${ssh.knownHostsPath} }
hosts:
  local: [local]
local: { repos: ['*'] }
environments:
  production:
    hosts: [${ssh.hosts.map((h) => `{ name: ${h.name}, address: 127.0.0.1, port: ${h.port} }`).join(', ')}]
    path: ${join(ssh.deployRoot, 'srv')}
${drain ? `    load_balancer: { haproxy: { socket: ${balancer.socketPath}, backend: app, timeout: ${drainTimeout} } }\n` : ''}`;
  const runArgs = ({ databaseUrl, ...config }: ServerOptions & { databaseUrl?: string } = {}) => {
    writeFileSync(join(checkout.scratch, 'server.yml'), serverConfig(config));
    const store = databaseUrl ? ['--database-url', databaseUrl] : ['--data-dir', join(checkout.scratch, 'data')];
    return ['run', '--server', join(checkout.scratch, 'server.yml'), ...store];
  };
  return { ssh, lb: balancer, checkout, ports, shared, serverConfig, runArgs, stop };
}

function killApp(pidFile: string): void {
  try {
    process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
  } catch {
    // Not running.
  }
}
