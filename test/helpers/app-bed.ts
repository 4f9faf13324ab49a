/**
 * What a deploy test runs against: the fixture app (test/fixtures/app) in a
 * git checkout, N real sshd hosts with its `shared/app.env` written, HAProxy
 * in front of them, and a server config (for `sluice run` or the service)
 * that puts the hosts in a `production` environment drained through that
 * HAProxy. With `builder`, the first host is a build host instead (and may
 * carry a `dev` environment). The fixture pipeline
 * (test/fixtures/pipelines/app-to-production.yml) builds the app and deploys
 * it with its own hook scripts; a test changes only the hook, build or health
 * check it is about.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { quoteArg } from '../../src/executor/shell-quote.ts';
import { freeLoopbackPort } from './free-port.ts';
import { startHaproxy, type HaproxyOptions, type RunningHaproxy } from './haproxy.ts';
import { buildOf, pipelineFixture } from './pipeline-fixture.ts';
import { startMonitor, type RunningMonitor } from './request-monitor.ts';
import { startSshHosts, type SshHosts } from './ssh-hosts.ts';
import { makeCheckout, type TempCheckout } from './temp-checkout.ts';

const fixtureApp = fileURLToPath(new URL('../fixtures/app/', import.meta.url));

export interface FixturePipelineOptions {
  /** The fixture: to production (default), or through dev and an approval first. */
  fixture?: 'app-to-production' | 'app-through-dev';
  /** Where the build runs (default `local`, this machine; `builder` for a bed with a build host). */
  buildHost?: string;
  /** The build's commands (default: the server is checked with `node --check`). */
  run?: string[];
  /** The start hook (default the app's `sh deploy/start.sh`). */
  start?: string;
  /** A validate hook, if any. */
  validate?: string;
  /** The health command (default: the app answers on its port) and its timeout. */
  health?: string;
  healthTimeout?: string;
}

/**
 * Build the fixture app (on this machine by default), deploy it to `production` with its own stop and start scripts.
 */
export function fixturePipeline({ fixture = 'app-to-production', ...options }: FixturePipelineOptions = {}): string {
  if (Object.keys(options).length === 0) return pipelineFixture(fixture);
  return pipelineFixture(fixture, (pipeline) => {
    const app = pipeline.app!;
    if (options.buildHost) buildOf(pipeline).host = options.buildHost;
    if (options.run) buildOf(pipeline).run = options.run;
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
  /** Who approves production in Slack, if anyone. */
  approval?: { channel: string; approvers: string[] };
  /** More top-level YAML for the config (`recovery:`, `slack:` …). */
  extra?: string;
}

export interface AppBedOptions {
  /** How many hosts (default 1). */
  hosts?: number;
  /**
   * The first host is the build host, the `builder` host group, and the app
   * hosts are the others; without it, builds run on this machine (`local`)
   * and every host is an app host.
   */
  builder?: boolean;
  /** A `dev` environment too, on the build host in `dev/` (needs `builder`). */
  dev?: boolean;
  /** Production's rolling batches, as YAML (`{ batch: 1, min_healthy: 1 }`). */
  rolling?: string;
  haproxy?: Partial<HaproxyOptions>;
  /** More lines for every host's `app.env` (`STARTUP_DELAY_MS=200`). */
  appEnv?: string;
}

/** The service's bed: a build host, and two app hosts rolled out one at a time, one always serving. */
export const SERVICE_HOSTS = {
  hosts: 3,
  builder: true,
  rolling: '{ batch: 1, min_healthy: 1 }',
} as const satisfies AppBedOptions;

export interface AppBed {
  ssh: SshHosts;
  lb: RunningHaproxy;
  checkout: TempCheckout;
  /** The production hosts behind HAProxy, by name. */
  appHosts: string[];
  /** The app's port on each host it runs on, by host name. */
  ports: Record<string, number>;
  /** A host's `shared/` directory, where `app.env`, `app.pid` and the hooks' marks live (`dev` for dev's). */
  shared(host?: string, environment?: 'production' | 'dev'): string;
  /** The release a production host's `current` points to. */
  currentRelease(host: string): string;
  /** The version a host's app answers with. */
  served(host: string): Promise<string>;
  /** Every production host UP in HAProxy, on `release` if given, serving `version`. */
  assertServing(version: string, release?: string): Promise<void>;
  /** A monitor sending requests through HAProxy, started and answered ten times. */
  startMonitor(): Promise<RunningMonitor>;
  /** The server config as `sluice run --server` reads it; `drain: false` leaves the load balancer out. */
  serverConfig(options?: ServerOptions): string;
  /** The server config written to a file in the scratch directory; its path. */
  writeServerConfig(options?: ServerOptions): string;
  /**
   * `sluice run` for the checkout: the server config written beside it, the data directory in its scratch (or
   * PostgreSQL).
   */
  runArgs(options?: ServerOptions & { databaseUrl?: string }): string[];
  /** Stops the apps, HAProxy and the hosts, and removes the checkout. */
  stop(): Promise<void>;
}

/** The fixture app's files, at `version`, with `pipeline` as its `.github/sluice.yml`. */
export function fixtureAppFiles(version: string, pipeline: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else files[relative(fixtureApp, path)] = readFileSync(path, 'utf8');
    }
  };
  walk(fixtureApp);
  return { ...files, VERSION: `${version}\n`, '.github/sluice.yml': pipeline };
}

export async function startAppBed(options: AppBedOptions = {}): Promise<AppBed> {
  const ssh = await startSshHosts(options.hosts ?? 1);
  const builder = options.builder ? ssh.hosts[0]! : undefined;
  const appHosts = ssh.hosts.filter((h) => h !== builder).map((h) => h.name);
  const ports: Record<string, number> = {};
  const shared = (name = appHosts[0]!, environment: 'production' | 'dev' = 'production') =>
    join(ssh.host(name).root, environment === 'dev' ? 'dev' : 'srv', 'shared');
  // Where the app runs: each production host, and dev's build host.
  const apps: Array<[string, 'production' | 'dev']> = appHosts.map((name) => [name, 'production']);
  if (options.dev) {
    if (!builder) throw new Error('a dev environment lives on the build host: start the bed with `builder: true`');
    apps.unshift([builder.name, 'dev']);
  }
  let lb: RunningHaproxy | undefined;
  const checkout = makeCheckout({ 'README.md': 'The fixture app, deployed by Sluice.\n' });
  const stop = async () => {
    for (const [name, environment] of apps) killApp(join(shared(name, environment), 'app.pid'));
    await lb?.stop();
    await ssh.stop();
    checkout.remove();
  };
  try {
    cpSync(fixtureApp, checkout.dir, { recursive: true });
    const free = await distinctLoopbackPorts(apps.length);
    for (const [i, [name, environment]] of apps.entries()) {
      ports[name] = free[i]!;
      writeAppEnv(shared(name, environment), { port: ports[name], hostName: name, more: options.appEnv });
    }
    lb = await startHaproxy({
      ...options.haproxy,
      backends: appHosts.map((name) => ({ name, port: ports[name]! })),
    });
  } catch (error) {
    await stop();
    throw error;
  }
  const balancer = lb;
  const address = (name: string) => `{ name: ${name}, address: 127.0.0.1, port: ${ssh.host(name).port} }`;
  const serverConfig = ({ drain = true, drainTimeout = '10s', approval, extra = '' }: ServerOptions = {}) =>
    `ssh: { user: ${ssh.user}, key: ${ssh.keyPath}, known_hosts: ${ssh.knownHostsPath} }
hosts:
${builder ? `  builder: [${address(builder.name)}]` : `  local: [local]\nlocal: { repos: ['*'] }`}
environments:
${
  options.dev
    ? `  dev:
    hosts: builder
    path: ${join(ssh.deployRoot, 'dev')}
    allow_commands_from: ["*"]          # dev shares its host with the builds
`
    : ''
}  production:
    hosts: [${appHosts.map(address).join(', ')}]
    path: ${join(ssh.deployRoot, 'srv')}
${options.rolling ? `    rolling: ${options.rolling}\n` : ''}${
      drain
        ? `    load_balancer: { haproxy: { socket: ${balancer.socketPath}, backend: app, timeout: ${drainTimeout} } }\n`
        : ''
    }${
      approval
        ? `    approval:\n      slack_channel: ${approval.channel}\n      approvers: [${approval.approvers.join(', ')}]\n      timeout: 1h\n`
        : ''
    }${extra}`;
  const writeServerConfig = (config: ServerOptions = {}) => {
    const file = join(checkout.scratch, 'server.yml');
    writeFileSync(file, serverConfig(config));
    return file;
  };
  const runArgs = ({ databaseUrl, ...config }: ServerOptions & { databaseUrl?: string } = {}) => {
    const store = databaseUrl ? ['--database-url', databaseUrl] : ['--data-dir', join(checkout.scratch, 'data')];
    return ['run', '--server', writeServerConfig(config), ...store];
  };
  const currentRelease = (name: string) =>
    readlinkSync(join(ssh.host(name).root, 'srv', 'current'))
      .split('/')
      .at(-1)!;
  const served = async (name: string) =>
    (await (await fetch(`http://127.0.0.1:${ports[name]}/`)).text()).split(' ')[0]!;
  const assertServing = async (version: string, release?: string) => {
    for (const name of appHosts) {
      await balancer.waitUntilUp(name);
      assert.equal((await balancer.serverStat(name)).status, 'UP', `${name} is in the load balancer`);
      if (release) assert.equal(currentRelease(name), release, `${name} is on release ${release}`);
      assert.equal(await served(name), version, `${name} serves ${version}`);
    }
  };
  const monitor = async () => {
    const running = startMonitor({
      url: `http://127.0.0.1:${balancer.port}/`,
      maxRequests: 9000,
      maxDurationMs: 170_000,
    });
    await running.waitForMore(10);
    return running;
  };
  return {
    ssh,
    lb: balancer,
    checkout,
    appHosts,
    ports,
    shared,
    currentRelease,
    served,
    assertServing,
    startMonitor: monitor,
    serverConfig,
    writeServerConfig,
    runArgs,
    stop,
  };
}

/**
 * Writes the fixture app's `app.env` into a host's `shared` directory (made
 * if missing), which its hooks and health check read: the port it listens
 * on, the host name it answers with, the Node it runs on, and `more` lines
 * (`STARTUP_DELAY_MS=400\n`).
 */
export function writeAppEnv(shared: string, app: { port: number; hostName: string; more?: string | undefined }): void {
  mkdirSync(shared, { recursive: true });
  writeFileSync(
    join(shared, 'app.env'),
    `PORT=${app.port}\nHOST_NAME=${app.hostName}\nNODE=${quoteArg(process.execPath)}\n${app.more ?? ''}`,
  );
}

/**
 * `count` free loopback ports, each different: no port is taken until its
 * app listens, so one the kernel offers twice is passed over (two hosts'
 * apps on one port would answer for each other).
 */
async function distinctLoopbackPorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  for (let tries = 0; ports.size < count; tries++) {
    if (tries === count + 20) throw new Error(`no ${count} different free loopback ports in ${tries} tries`);
    ports.add(await freeLoopbackPort());
  }
  return [...ports];
}

/**
 * The fixture app's `app.env` on every host of `ssh` (in `srv/shared`), each
 * with a free loopback port of its own and `more` lines; the ports by host name.
 */
export async function writeAppEnvs(ssh: SshHosts, more?: string): Promise<Record<string, number>> {
  const free = await distinctLoopbackPorts(ssh.hosts.length);
  const ports: Record<string, number> = {};
  ssh.hosts.forEach((host, i) => {
    ports[host.name] = free[i]!;
    writeAppEnv(join(host.root, 'srv', 'shared'), { port: free[i]!, hostName: host.name, more });
  });
  return ports;
}

/**
 * What the fixture app on `port` answers (`<version> <host>`), over a
 * connection of its own, so none is left open to hold a drain back.
 */
export function appAnswer(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = get(`http://127.0.0.1:${port}/`, { agent: false, timeout: 5000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve(body.trim()));
    });
    request.on('timeout', () => request.destroy(new Error(`no answer on port ${port} within 5 s`)));
    request.on('error', reject);
  });
}

/** Stops the fixture app whose pid file this is, if it runs. */
export function killApp(pidFile: string): void {
  try {
    process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
  } catch {
    // Not running.
  }
}
