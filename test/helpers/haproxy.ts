/**
 * A real HAProxy in front of local backends, configured like the seed's load
 * balancer: HTTP, round robin, active health checks on /health, no retry and
 * no redispatch, so a request sent to a server that went away fails at the
 * client — the effect a drain before a restart must prevent (S3).
 *
 * Servers live in backend `app`, so the operator's drain command from the
 * server config works as written:
 *   echo "set server app/host1 state drain" | socat stdio <socketPath>
 * A missing haproxy is an error, never a skip.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { haproxyCommand, parseStats, type HaproxyStat } from '../../src/deploy/haproxy-runtime.ts';
import { freeLoopbackPort } from './free-port.ts';

const run = promisify(execFile);

/** The backend holding the servers: an operator names them `app/<host>`. */
export const BACKEND = 'app';

export interface HaproxyOptions {
  /** Servers of backend `app`, all on 127.0.0.1. */
  backends: Array<{ name: string; port: number }>;
  /** Path of the active health check (`option httpchk GET <path>`). */
  healthPath?: string;
  /** `inter` of the health checks: how often each server is checked. */
  checkIntervalMs?: number;
  /** Failed checks in a row before a server is DOWN. */
  fall?: number;
  /** Passed checks in a row before a DOWN server is UP again. */
  rise?: number;
  /** `timeout server` (and `timeout client`): how long a request may wait for its answer; default 5000. */
  requestTimeoutMs?: number;
  /** The haproxy executable; default Debian's /usr/sbin/haproxy, else `haproxy` from PATH. */
  binary?: string;
}

export type { HaproxyStat };

export type ServerState = 'ready' | 'drain' | 'maint';

export interface RunningHaproxy {
  /** The frontend port on 127.0.0.1. */
  port: number;
  /** The runtime API socket (`level admin`). */
  socketPath: string;
  /** `set server app/<name> state <state>`; `name` may be `host1` or `app/host1`. */
  setState(name: string, state: ServerState): Promise<void>;
  /** `show stat`, parsed. */
  stats(): Promise<HaproxyStat[]>;
  /** The `show stat` row of one server. */
  serverStat(name: string): Promise<HaproxyStat>;
  /**
   * Whether the server is set to drain (`set server … state drain`), whatever its health check says: a drained
   * server whose app is restarting shows `DOWN` in `show stat` until its check sees it again.
   */
  drained(name: string): Promise<boolean>;
  /** Waits until a server holds no session (after a drain, before its restart). */
  waitUntilIdle(name: string, timeoutMs?: number): Promise<void>;
  /** Waits until HAProxy's own health check has seen the server UP. */
  waitUntilUp(name: string, timeoutMs?: number): Promise<void>;
  /** Any runtime API command; returns HAProxy's answer. */
  command(line: string): Promise<string>;
  /** Kills HAProxy and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Debian's HAProxy is in /usr/sbin, which a user's PATH (and one with only
 * /usr/bin, as a fresh shell may have) leaves out: found there first, as sshd is.
 */
const DEFAULT_BINARY = existsSync('/usr/sbin/haproxy') ? '/usr/sbin/haproxy' : 'haproxy';

/** Starts HAProxy in the foreground and resolves once its frontend accepts connections. */
export async function startHaproxy(options: HaproxyOptions): Promise<RunningHaproxy> {
  const binary = options.binary ?? DEFAULT_BINARY;
  await checkInstalled(binary);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-haproxy-'));
  const socketPath = join(dir, 'haproxy.sock');
  const configPath = join(dir, 'haproxy.cfg');
  const port = await freeLoopbackPort();
  writeFileSync(configPath, renderConfig({ ...options, port, socketPath }));

  const child = spawn(binary, ['-db', '-f', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // If the test process dies without calling stop, do not leave HAProxy behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', killOnExit);
    await killAndWait(child);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await waitUntil(
      5000,
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`haproxy exited (${child.exitCode ?? child.signalCode}) while starting:\n${output}`);
        }
        return existsSync(socketPath) && (await accepts(port));
      },
      () => `haproxy did not accept on 127.0.0.1:${port} within 5 s:\n${output}`,
    );
  } catch (error) {
    await stop();
    throw error;
  }

  const command = (line: string) => haproxyCommand(socketPath, line);
  const stats = async () => parseStats(await command('show stat'));
  const serverStat = async (name: string) => {
    const full = serverName(name);
    const row = (await stats()).find((stat) => stat.name === full);
    if (!row) throw new Error(`HAProxy has no server ${full}`);
    return row;
  };
  return {
    port,
    socketPath,
    command,
    stats,
    serverStat,
    stop,
    async drained(name) {
      // `show servers state`: a version line, a `# be_id be_name …` header, then one row per server.
      const lines = (await command(`show servers state ${BACKEND}`)).trim().split('\n');
      const header = lines
        .find((line) => line.startsWith('# '))!
        .slice(2)
        .split(' ');
      const full = serverName(name);
      const row = lines
        .filter((line) => !line.startsWith('#') && line.includes(' '))
        .map((line) => line.split(' '))
        .find((cells) => `${cells[header.indexOf('be_name')]}/${cells[header.indexOf('srv_name')]}` === full);
      if (!row) throw new Error(`HAProxy has no server ${full}`);
      // SRV_ADMF_FDRAIN: drained by the runtime API.
      return (Number(row[header.indexOf('srv_admin_state')]) & 0x08) !== 0;
    },
    async setState(name, state) {
      const answer = (await command(`set server ${serverName(name)} state ${state}`)).trim();
      // Success is an empty answer; anything else is HAProxy saying why not.
      if (answer !== '') throw new Error(`set server ${serverName(name)} state ${state}: ${answer}`);
    },
    async waitUntilIdle(name, timeoutMs = 10_000) {
      let last: HaproxyStat | undefined;
      await waitUntil(
        timeoutMs,
        async () => {
          last = await serverStat(name);
          return last.currentSessions === 0 && Number(last.fields.qcur || 0) === 0;
        },
        () => `${serverName(name)} still had ${last?.currentSessions} sessions after ${timeoutMs} ms`,
      );
    },
    async waitUntilUp(name, timeoutMs = 10_000) {
      let last: HaproxyStat | undefined;
      // Exactly UP (or DRAIN: up but drained) with a passed last check; "UP 1/3"
      // means checks are already failing.
      await waitUntil(
        timeoutMs,
        async () => {
          last = await serverStat(name);
          return (last.status === 'UP' || last.status === 'DRAIN') && last.checkStatus.startsWith('L7OK');
        },
        () =>
          `${serverName(name)} was not UP after ${timeoutMs} ms (status ${last?.status}, check ${last?.checkStatus})`,
      );
    },
  };
}

function renderConfig(options: HaproxyOptions & { port: number; socketPath: string }): string {
  const inter = options.checkIntervalMs ?? 100;
  const servers = options.backends.map(({ name, port }) => `  server ${name} 127.0.0.1:${port}`);
  return [
    'global',
    `  stats socket ${options.socketPath} mode 600 level admin`,
    '  stats timeout 10s',
    '',
    'defaults',
    '  mode http',
    // No second chance: a request sent to a server that is gone fails at the
    // client, as with the seed's load balancer. Retries or a redispatch
    // would hide exactly the failures a drain is meant to prevent.
    '  retries 0',
    '  timeout connect 1s',
    `  timeout client ${options.requestTimeoutMs ?? 5000}ms`,
    `  timeout server ${options.requestTimeoutMs ?? 5000}ms`,
    // A check must finish before the next is due.
    `  timeout check ${Math.max(50, Math.min(1000, inter))}ms`,
    '',
    'frontend web',
    `  bind 127.0.0.1:${options.port}`,
    `  default_backend ${BACKEND}`,
    '',
    `backend ${BACKEND}`,
    '  balance roundrobin',
    `  option httpchk GET ${options.healthPath ?? '/health'}`,
    '  http-check expect status 200',
    // fall 3 (HAProxy's own default): a stopped server is DOWN only after
    // 2–3 intervals, the window in which an undrained restart loses requests.
    // rise 1: a restarted server takes traffic one check after it answers.
    `  default-server check inter ${inter}ms fall ${options.fall ?? 3} rise ${options.rise ?? 1}`,
    ...servers,
    '',
  ].join('\n');
}

/** Throws a message that says how to install HAProxy when it is missing. */
async function checkInstalled(binary: string): Promise<void> {
  try {
    await run(binary, ['-v'], { timeout: 5000 });
  } catch (error) {
    throw new Error(
      `HAProxy is needed by the load-balancer tests but "${binary}" did not run; install it with: apt-get install haproxy socat`,
      { cause: error },
    );
  }
}

function serverName(name: string): string {
  return name.includes('/') ? name : `${BACKEND}/${name}`;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(500, () => socket.destroy());
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });
}

async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

/** Polls `check` every 20 ms until it is true; throws `message()` after `timeoutMs`. */
async function waitUntil(timeoutMs: number, check: () => Promise<boolean>, message: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(message());
}
