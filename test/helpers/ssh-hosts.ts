/**
 * Real SSH hosts for tests: N OpenSSH sshd processes on free 127.0.0.1
 * ports, each with its own ed25519 host key and deploy root, all accepting
 * one generated client key for the current user. Also a known_hosts file
 * for all of them, their logs (LogLevel VERBOSE, so a test can tell whether
 * authentication was attempted), the processes serving each connection,
 * and a host key change. A missing sshd is an error, never a skip.
 *
 * With `sharedLog`, every host's sshd, SFTP server and `cat` (for uploads
 * with the OpenSSH client) append to one file instead, so its lines keep the
 * order things happened in across hosts: `concurrencyInLog` reads from it
 * how many connections, hosts connected to and uploads the hosts saw open at
 * once.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freeLoopbackPort } from './free-port.ts';

const run = promisify(execFile);

export interface SshTestHost {
  /** `host1`, `host2`, … */
  name: string;
  address: '127.0.0.1';
  port: number;
  /** The host's own directory, as the test sees it; on the host it is `SshHosts.deployRoot`. */
  root: string;
}

export interface SshHostsOptions {
  /** The sshd executable; default /usr/sbin/sshd. */
  sshd?: string;
  /**
   * A file every host's sshd (`-E`) and SFTP server (`sftp-server -l INFO`,
   * each file opened and closed) append their logs to, in place of `log(name)`
   * (which stays empty); and the hosts' `cat` (first in the sessions' PATH)
   * says there when an upload into `incoming/` starts and ends.
   */
  sharedLog?: string;
}

export interface SshHosts {
  hosts: SshTestHost[];
  /** The user every host accepts (the current user). */
  user: string;
  /** Private key (ed25519, no passphrase) every host accepts. */
  keyPath: string;
  /** `[127.0.0.1]:PORT ssh-ed25519 …` for every host, as first started. */
  knownHostsPath: string;
  /**
   * One path that each host sees as its own `root` (a bind mount in the
   * sshd's own mount namespace), so a server config can name one deploy
   * path for every host, as in production.
   */
  deployRoot: string;
  host(name: string): SshTestHost;
  /** The host's current known_hosts line. */
  knownHostsLine(name: string): string;
  /**
   * Restarts the host's sshd on the same port with a new host key, dropping its connections. known_hosts is left as it
   * was. Returns the new line.
   */
  regenerateHostKey(name: string): Promise<string>;
  /** Everything the host's sshd has logged (stderr). */
  log(name: string): string;
  /** Waits until the log from offset `from` on matches; returns that part of the log. */
  waitForLog(name: string, pattern: RegExp, from?: number, timeoutMs?: number): Promise<string>;
  /** One sshd process per open connection (the listener's children). */
  connectionPids(name: string): Promise<number[]>;
  /** Sends a signal to every sshd process serving a connection to the host (not to the commands they run). */
  signalConnections(name: string, signal: NodeJS.Signals): Promise<number[]>;
  /** Every sshd listener and every process below one, right now. */
  processIds(): Promise<number[]>;
  /** Kills every sshd (and what runs under it) and removes the temp directory. Safe to call twice. */
  stop(): Promise<void>;
}

interface HostState {
  host: SshTestHost;
  dir: string;
  configPath: string;
  knownHostsLine: string;
  /** Unset until sshd is first started. */
  process?: ChildProcess;
  log: string;
}

/** Starts `count` sshd processes and resolves once each accepts connections. */
export async function startSshHosts(count: number, options: SshHostsOptions = {}): Promise<SshHosts> {
  const sshd = options.sshd ?? '/usr/sbin/sshd';
  const user = userInfo().username;
  // sshd refuses to start without its privilege separation directory.
  if (process.getuid?.() === 0) await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = await mkdtemp(join(tmpdir(), 'sluice-sshd-'));
  const keyPath = join(dir, 'id_ed25519');
  const knownHostsPath = join(dir, 'known_hosts');
  const deployRoot = join(dir, 'deploy-root');
  const states = new Map<string, HostState>();
  let stopped: Promise<void> | undefined;

  const stop = () => {
    stopped ??= (async () => {
      for (const state of states.values()) await stopSshd(state);
      await rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  };

  try {
    await generateKey(keyPath, 'sluice-test-client');
    await writeFile(join(dir, 'authorized_keys'), await readFile(`${keyPath}.pub`, 'utf8'));
    await mkdir(deployRoot);
    for (let index = 1; index <= count; index++) {
      const name = `host${index}`;
      const hostDir = join(dir, name);
      const root = join(hostDir, 'root');
      await mkdir(root, { recursive: true });
      const state: HostState = {
        host: { name, address: '127.0.0.1', port: 0, root },
        dir: hostDir,
        configPath: join(hostDir, 'sshd_config'),
        knownHostsLine: '',
        log: '',
      };
      states.set(name, state);
      await generateKey(join(hostDir, 'ssh_host_ed25519_key'), name);
      await startOnFreePort(sshd, state, dir, options.sharedLog);
    }
    await writeFile(knownHostsPath, [...states.values()].map((state) => `${state.knownHostsLine}\n`).join(''));
  } catch (error) {
    await stop();
    throw error;
  }

  const stateOf = (name: string): HostState => {
    const state = states.get(name);
    if (!state) throw new Error(`no test host ${name}`);
    return state;
  };
  const connectionProcesses = async (name: string) => {
    const tree = await processTree();
    return childrenOf(tree, stateOf(name).process?.pid);
  };

  return {
    hosts: [...states.values()].map((state) => state.host),
    user,
    keyPath,
    knownHostsPath,
    deployRoot,
    host: (name) => stateOf(name).host,
    knownHostsLine: (name) => stateOf(name).knownHostsLine,
    async regenerateHostKey(name) {
      const state = stateOf(name);
      await stopSshd(state);
      const keyFile = join(state.dir, 'ssh_host_ed25519_key');
      await rm(keyFile, { force: true });
      await rm(`${keyFile}.pub`, { force: true });
      await generateKey(keyFile, name);
      await startSshd(sshd, state, dir, options.sharedLog);
      return state.knownHostsLine;
    },
    log: (name) => stateOf(name).log,
    async waitForLog(name, pattern, from = 0, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (true) {
        const part = stateOf(name).log.slice(from);
        if (pattern.test(part)) return part;
        if (Date.now() > deadline)
          throw new Error(`sshd of ${name} did not log ${pattern} within ${timeoutMs} ms; it logged:\n${part}`);
        await delay(25);
      }
    },
    async connectionPids(name) {
      const tree = await processTree();
      return childrenOf(tree, stateOf(name).process?.pid).filter((pid) => tree.get(pid)?.comm === 'sshd');
    },
    async signalConnections(name, signal) {
      const tree = await processTree();
      // The privileged monitor and the user's network process: both sshd.
      const pids = (await connectionProcesses(name))
        .flatMap((pid) => [pid, ...descendantsOf(tree, pid)])
        .filter((pid) => tree.get(pid)?.comm === 'sshd');
      for (const pid of pids) process.kill(pid, signal);
      return pids;
    },
    async processIds() {
      const tree = await processTree();
      return [...states.values()].flatMap((state) => {
        const pid = state.process?.pid;
        return pid === undefined ? [] : [pid, ...descendantsOf(tree, pid)];
      });
    },
    stop,
  };
}

async function generateKey(path: string, comment: string): Promise<void> {
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path]);
}

/** A port that was free a moment ago; sshd may lose the race, so the caller retries. */
async function startOnFreePort(sshd: string, state: HostState, dir: string, sharedLog?: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    state.host.port = await freeLoopbackPort();
    try {
      return await startSshd(sshd, state, dir, sharedLog);
    } catch (error) {
      if (attempt >= 3 || !/Address already in use/.test((error as Error).message)) throw error;
    }
  }
}

async function startSshd(sshd: string, state: HostState, dir: string, sharedLog?: string): Promise<void> {
  const { host } = state;
  const hostKey = join(state.dir, 'ssh_host_ed25519_key');
  const sftpServer = join(dir, 'sftp-server-logged');
  const loggedBin = join(dir, 'logged-bin');
  if (sharedLog) {
    await writeFile(sftpServer, `#!/bin/sh\nexec /usr/lib/openssh/sftp-server -e -l INFO 2>>"$1"\n`, { mode: 0o755 });
    await mkdir(loggedBin, { recursive: true });
    await writeFile(join(loggedBin, 'cat'), loggedCat(sharedLog), { mode: 0o755 });
  }
  await writeFile(
    state.configPath,
    [
      `Port ${host.port}`,
      'ListenAddress 127.0.0.1',
      `HostKey "${hostKey}"`,
      `PidFile "${join(state.dir, 'sshd.pid')}"`,
      `AuthorizedKeysFile "${join(dir, 'authorized_keys')}"`,
      'UsePAM no',
      'StrictModes no',
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UseDNS no',
      'PrintMotd no',
      'MaxStartups 100',
      // VERBOSE logs `Postponed publickey` and `Accepted publickey`: proof that a
      // client tried to log in. DEBUG1 would also leak debug lines into the
      // sessions' stderr (with -e the session processes log to fd 2).
      'LogLevel VERBOSE',
      sharedLog ? `Subsystem sftp "${sftpServer}" "${sharedLog}"` : 'Subsystem sftp internal-sftp',
      // Debian's bash reads ~/.bashrc in shells started by sshd unless SHLVL
      // says it is nested: the tester's own .bashrc (pyenv, nvm, …) would
      // make every command slow and the tests depend on that machine.
      // sshd uses only its first SetEnv line: both variables on it. PATH
      // (set after sshd's own default) puts the logging `cat` first.
      sharedLog ? `SetEnv SHLVL=1 "PATH=${loggedBin}:/usr/local/bin:/usr/bin:/bin"` : 'SetEnv SHLVL=1',
      '',
    ].join('\n'),
  );
  const publicKey = (await readFile(`${hostKey}.pub`, 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');
  state.knownHostsLine = `[${host.address}]:${host.port} ${publicKey}`;
  state.log = '';
  // A mount namespace of its own, where deploy-root is this host's root; unshare and sh exec, so the pid is sshd's.
  const child = spawn(
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      '--',
      'sh',
      '-c',
      'mount --bind "$1" "$2" && shift 2 && exec "$@"',
      'sh',
      host.root,
      join(dir, 'deploy-root'),
      sshd,
      '-D',
      ...(sharedLog ? ['-E', sharedLog] : ['-e']),
      '-f',
      state.configPath,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  state.process = child;
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => (state.log += chunk));

  if (sharedLog) return waitForListener(child, host);
  const listening = `Server listening on ${host.address} port ${host.port}`;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => fail(new Error(`sshd for ${host.name} did not start listening within 10 s:\n${state.log}`)),
      10_000,
    );
    const onData = () => {
      if (!state.log.includes(listening)) return;
      cleanup();
      resolve();
    };
    const onExit = (code: number | null) =>
      fail(new Error(`sshd for ${host.name} exited (${code}) before listening:\n${state.log}`));
    const onError = (error: Error) => fail(new Error(`could not start ${sshd}: ${error.message}`, { cause: error }));
    function fail(error: Error) {
      cleanup();
      reject(error);
    }
    function cleanup() {
      clearTimeout(timer);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
    }
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
  await waitForBanner(host.port);
}

/** An sshd logging to a file: its banner, asked for every 25 ms for up to 10 s. */
async function waitForListener(child: ChildProcess, host: SshTestHost): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`sshd for ${host.name} exited (${child.exitCode ?? child.signalCode}) before listening`);
    try {
      return await waitForBanner(host.port);
    } catch (error) {
      if (attempt >= 400)
        throw new Error(`sshd for ${host.name} did not start listening within 10 s`, { cause: error });
      await delay(25);
    }
  }
}

/**
 * The hosts' `cat` with a shared log: one whose standard output is a file
 * right in `incoming/` (an artifact uploaded with the OpenSSH client, `exec
 * cat > …/incoming/<release>.tar.gz`; not the files unpacking writes below
 * it) appends `upload start <path>` before and `upload end
 * <path>` after running /bin/cat, and keeps its exit status; any other runs
 * /bin/cat itself.
 */
function loggedCat(sharedLog: string): string {
  if (/['\n]/.test(sharedLog)) throw new Error(`a shared log path without quotes or newlines, not ${sharedLog}`);
  return [
    '#!/bin/sh',
    "out=$(readlink /proc/$$/fd/1 2>/dev/null) || out=''",
    'case "$out" in',
    '*/incoming/*/*) exec /bin/cat "$@" ;;',
    '*/incoming/*) ;;',
    '*) exec /bin/cat "$@" ;;',
    'esac',
    `printf 'upload start %s\\n' "$out" >>'${sharedLog}'`,
    '/bin/cat "$@"',
    'status=$?',
    `printf 'upload end %s\\n' "$out" >>'${sharedLog}'`,
    'exit "$status"',
    '',
  ].join('\n');
}

/**
 * From a shared log (in the order its lines were written, across hosts):
 * the most connections open at once (from sshd's `Connection from … on
 * 127.0.0.1 port P` to the connection's end), the most hosts with at least
 * one connection open at once (a host is its port P), and the most artifact
 * uploads at once, with how many there were in all. An upload is one made
 * with the OpenSSH client (the hosts' `cat`: `upload start` to `upload end`)
 * or over SFTP (the SFTP server's `open` to `close` of a file written under
 * `incoming/`).
 */
export function concurrencyInLog(text: string): {
  connections: { peak: number; total: number };
  hosts: { peak: number };
  uploads: { peak: number; total: number };
} {
  /** The open connections: the client's port, and the host's. */
  const open = new Map<string, string>();
  let uploading = 0;
  const connections = { peak: 0, total: 0 };
  const hosts = { peak: 0 };
  const uploads = { peak: 0, total: 0 };
  const startUpload = () => {
    uploading++;
    uploads.total++;
    uploads.peak = Math.max(uploads.peak, uploading);
  };
  for (const line of text.split('\n')) {
    const from = /^Connection from \S+ port (\d+) on \S+ port (\d+)/.exec(line);
    if (from) {
      open.set(from[1]!, from[2]!);
      connections.total++;
      connections.peak = Math.max(connections.peak, open.size);
      hosts.peak = Math.max(hosts.peak, new Set(open.values()).size);
      continue;
    }
    const end =
      /^(?:Received disconnect from|Disconnected from(?: user \S+| authenticating user \S+)?|Connection (?:closed|reset) by(?: authenticating user \S+)?) \S+ port (\d+)/.exec(
        line,
      );
    if (end) {
      open.delete(end[1]!);
      continue;
    }
    if (/^upload start \S*\/incoming\/[^/]+$/.test(line)) startUpload();
    else if (/^upload end \S*\/incoming\/[^/]+$/.test(line)) uploading--;
    else if (/^open ".*\/incoming\/[^"]*" flags \S*WRITE/.test(line)) startUpload();
    else if (/^close ".*\/incoming\/[^"]*" bytes read \d+ written [1-9]/.test(line)) uploading--;
  }
  return { connections, hosts, uploads };
}

/** Connects once and reads `SSH-2.0-…`: the port really accepts connections. */
function waitForBanner(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(5000, () => socket.destroy(new Error(`no SSH banner on port ${port} within 5 s`)));
    socket.once('data', (data) => {
      socket.destroy();
      if (data.toString('latin1').startsWith('SSH-')) resolve();
      else reject(new Error(`port ${port} answered without an SSH banner`));
    });
    socket.once('error', reject);
  });
}

/** Kills what runs under the listener, then the listener, and waits for it to exit. */
async function stopSshd(state: HostState): Promise<void> {
  const child = state.process;
  if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Each connection is a session of its own: killing the listener leaves them running.
  const descendants = descendantsOf(await processTree(), child.pid);
  // SIGTERM first, so shells run their traps (and drop their lock files);
  // SIGCONT for connections a test froze.
  signalAll(descendants, 'SIGCONT');
  signalAll(descendants, 'SIGTERM');
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
  if (!(await waitUntilGone(descendants, 1000))) signalAll(descendants, 'SIGKILL');
  await exited;
  clearTimeout(killer);
  // SIGKILL is delivered asynchronously; callers rely on "gone".
  await waitUntilGone(descendants, 3000);
}

function signalAll(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // Gone already.
    }
  }
}

/** Whether all of them ended in time (zombies count as ended). */
async function waitUntilGone(pids: readonly number[], timeoutMs: number): Promise<boolean> {
  for (let waited = 0; waited < timeoutMs; waited += 25) {
    const tree = await processTree();
    if (!pids.some((pid) => tree.has(pid))) return true;
    await delay(25);
  }
  return false;
}

type ProcessTree = Map<number, { ppid: number; comm: string }>;

/** Every process from /proc, with its parent and command name. */
async function processTree(): Promise<ProcessTree> {
  const tree: ProcessTree = new Map();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const open = stat.indexOf('(');
    const close = stat.lastIndexOf(')');
    if (open < 0 || close < 0) continue;
    // "pid (comm) state ppid …"; comm may itself contain spaces and parentheses.
    const [state, ppid] = stat.slice(close + 2).split(' ');
    if (state === 'Z' || state === 'X') continue;
    tree.set(Number(entry), { ppid: Number(ppid), comm: stat.slice(open + 1, close) });
  }
  return tree;
}

function childrenOf(tree: ProcessTree, pid: number | undefined): number[] {
  return [...tree].filter(([, info]) => info.ppid === pid).map(([child]) => child);
}

function descendantsOf(tree: ProcessTree, pid: number): number[] {
  const found: number[] = [];
  for (let queue = childrenOf(tree, pid); queue.length > 0;) {
    const next = queue.shift() as number;
    found.push(next);
    queue = queue.concat(childrenOf(tree, next));
  }
  return found;
}

/**
 * A server config that builds on this machine and deploys `production` to
 * every host, rolling: `ssh` adds to the `ssh:` map (`max_sessions: 3`),
 * `rolling` is production's `rolling:` map, and `drainThrough` a HAProxy
 * runtime socket to drain each host through (backend `app`).
 */
export function productionOnHosts(
  ssh: SshHosts,
  options: { ssh?: string; path?: string; rolling: string; drainThrough?: string },
): string {
  const hosts = ssh.hosts.map((h) => `{ name: ${h.name}, address: ${h.address}, port: ${h.port} }`).join(', ');
  return `ssh: { user: ${ssh.user}, key: ${ssh.keyPath}, known_hosts: ${ssh.knownHostsPath}${options.ssh ? `, ${options.ssh}` : ''} }
hosts:
  local: [local]
local:
  repos: ["*"]
environments:
  production:
    hosts: [${hosts}]
    path: ${options.path ?? join(ssh.deployRoot, 'srv')}
    rolling: { ${options.rolling} }
${options.drainThrough ? `    load_balancer: { haproxy: { socket: ${options.drainThrough}, backend: app, timeout: 10s } }\n` : ''}`;
}
