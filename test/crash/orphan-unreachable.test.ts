/**
 * Sluice killed with SIGKILL mid-build on an SSH host that cannot be
 * reached when it starts again (PRODUCT R3). The interrupted build is
 * retried at once (recovery.retry_interrupted_builds), but the retry waits,
 * saying so in its log and on its check run, until Sluice has stopped the
 * orphan and removed its workspace; or, when the host stays away, until
 * the host's own time limit for the orphan has passed.
 * The host is reached through a TCP forwarder: closing it makes its port
 * refuse, opening it again brings the host back.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { GithubStandIn } from '../helpers/github-stand-in.ts';
import { heldCheckRuns, sleepingBuild, waitForSluice } from '../helpers/fault-checks.ts';
import { pushPayload, sendWebhook, sha } from '../helpers/github-webhooks.ts';
import { freeLoopbackPort } from '../helpers/free-port.ts';
import type { SluiceProcess } from '../helpers/sluice-process.ts';
import { startSshHosts, type SshHosts } from '../helpers/ssh-hosts.ts';
import { startSluiceIn } from '../helpers/sluice-in-dir.ts';

const run = promisify(execFile);
const SECRET = 'orphan-unreachable-secret';

let github: GithubStandIn;
let ssh: SshHosts;
let root = '';
let sluice: SluiceProcess | undefined;
let forwarder: Forwarder | undefined;
// Every process and forwarder a test started, stopped at the end even when a test failed half-way:
// one left open would keep this file's process alive.
const started: SluiceProcess[] = [];
const forwarders: Forwarder[] = [];

before(async () => {
  github = await new GithubStandIn().start();
  ssh = await startSshHosts(1);
  root = mkdtempSync(join(tmpdir(), 'sluice-orphan-away-'));
});

after(async () => {
  for (const child of started) await child.kill();
  for (const open of forwarders) await open.close();
  await ssh?.stop();
  await github?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

/** Forwards a loopback port to the host's sshd while open; refuses connections once closed. */
class Forwarder {
  readonly port: number;
  readonly #target: number;
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();

  constructor(port: number, target: number) {
    this.port = port;
    this.#target = target;
  }

  async open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.#target, '127.0.0.1');
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('close', () => this.#sockets.delete(socket));
        socket.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(this.port, '127.0.0.1', resolve));
    this.#server = server;
  }

  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

interface Bed {
  dir: string;
  repo: string;
  commit: string;
  sleep: string;
  start(): Promise<SluiceProcess>;
  orphans(): Promise<number[]>;
  logOf(attempt: number): string[];
}

/** A data directory, a server config naming the host behind the forwarder, and a build that sleeps. */
async function bed(name: string, serverExtra: string): Promise<Bed> {
  const dir = join(root, name);
  const host = ssh.hosts[0]!;
  forwarder = new Forwarder(await freeLoopbackPort(), host.port);
  forwarders.push(forwarder);
  await forwarder.open();
  const knownHosts = join(dir, 'known_hosts');
  rmSync(dir, { recursive: true, force: true });
  await run('mkdir', ['-p', dir]);
  writeFileSync(
    knownHosts,
    readFileSync(ssh.knownHostsPath, 'utf8').replace(`[127.0.0.1]:${host.port} `, `[127.0.0.1]:${forwarder.port} `),
  );
  writeFileSync(
    join(dir, 'server.yml'),
    `ssh: { user: ${ssh.user}, key: ${ssh.keyPath}, known_hosts: ${knownHosts}${serverExtra} }
hosts:
  builder: [{ name: ${host.name}, address: 127.0.0.1, port: ${forwarder.port} }]
recovery: { retry_interrupted_builds: true }
`,
  );
  // The build's own sleep, not a shell whose command line names it.
  const sleep = `${name === 'back' ? 7781 : 7782}.${process.pid}`;
  const onlySleep = `^sleep ${sleep.replace('.', '[.]')}$`;
  return {
    dir,
    repo: `acme/${name}`,
    commit: sha(name === 'back' ? 1 : 2),
    sleep,
    start: async () => {
      sluice = await startSluiceIn(dir, github, SECRET);
      started.push(sluice);
      return sluice;
    },
    orphans: async () => {
      const { stdout } = await run('pgrep', ['-f', onlySleep]).catch((error: { code?: number }) => {
        if (error.code === 1) return { stdout: '' };
        throw error;
      });
      return stdout.trim().split('\n').filter(Boolean).map(Number);
    },
    logOf: (attempt) => {
      const db = new DatabaseSync(join(dir, 'data', 'sluice.db'), { readOnly: true });
      try {
        const rows = db
          .prepare(
            "SELECT text FROM log_lines WHERE stage = 'build' AND action = 'compile' AND attempt = ? ORDER BY seq",
          )
          .all(attempt) as Array<{ text: string }>;
        return rows.map((row) => row.text);
      } finally {
        db.close();
      }
    },
  };
}

/**
 * Pushes the sleeping build, kills Sluice once it runs on the host, and closes the host. Returns the orphan's
 * workspace.
 */
async function orphanOnClosedHost(b: Bed): Promise<string> {
  const pipeline = sleepingBuild(b.sleep, join(b.dir, 'gate'));
  github.install(b.repo);
  github.addCommit(b.repo, b.commit, { '.github/sluice.yml': pipeline, VERSION: 'v1\n' });
  github.setBranch(b.repo, 'main', b.commit);
  await b.start();
  const push = await sendWebhook(sluice!.url, SECRET, 'push', pushPayload({ repo: b.repo, after: b.commit }), {
    delivery: `push-${b.repo}`,
  });
  assert.equal(push.status, 200);
  await waitForSluice(sluice, 'the build to run on the host', async () => (await b.orphans()).length === 1);
  const [pid] = await b.orphans();
  const workspace = dirname(readlinkSync(`/proc/${pid}/cwd`));
  assert.match(workspace, /\/sluice-ws-/);
  await sluice!.kill();
  await forwarder!.close();
  return workspace;
}

const WAITING =
  /^⏸ waiting: Sluice cannot reach host1 to stop what attempt 1 left running there \(.+\); this attempt starts once it can, at the latest at \d{4}-\d\d-\d\dT/;

test(
  'the retry waits while the host is away, and starts once the orphan is stopped and its workspace removed',
  { timeout: 300_000 },
  async () => {
    const b = await bed('back', '');
    const workspace = await orphanOnClosedHost(b);
    await b.start();
    await waitForSluice(sluice, 'the retry to say it waits', () => b.logOf(2).some((line) => WAITING.test(line)));
    assert.ok(
      b
        .logOf(1)
        .some((line) =>
          /^could not reach host1 to stop what Sluice left running there \(.+\); a retry waits/.test(line),
        ),
      b.logOf(1).join('\n'),
    );
    await waitForSluice(sluice, 'the retry’s check run to say it waits', () =>
      /⏸ waiting: Sluice cannot reach host1/.test(
        heldCheckRuns(github, 'Sluice: build', b.commit).at(-1)?.output?.text ?? '',
      ),
    );
    assert.equal((await b.orphans()).length, 1, 'the orphan runs on while the host is away');
    assert.ok(existsSync(workspace), 'its workspace is not removed while it may run');

    writeFileSync(join(b.dir, 'gate'), '');
    await forwarder!.open();
    await waitForSluice(
      sluice,
      'the retried build to succeed',
      () => heldCheckRuns(github, 'Sluice: build', b.commit).at(-1)?.conclusion === 'success',
      180_000,
    );
    assert.deepEqual(await b.orphans(), [], 'the orphan is stopped');
    assert.equal(existsSync(workspace), false, `${workspace} is removed`);
    assert.ok(
      b
        .logOf(1)
        .some((line) =>
          /^stopped what Sluice left running on host1 when it stopped \(process group \d+\), removed its workspace$/.test(
            line,
          ),
        ),
      b.logOf(1).join('\n'),
    );
    const log = b.logOf(2);
    const stopped = log.indexOf('✓ stopped what attempt 1 left running; this attempt starts now');
    assert.ok(stopped >= 0 && stopped < log.indexOf('running before me: 0'), log.join('\n'));
    assert.doesNotMatch(sluice!.output(), /unhandled|ERR_UNHANDLED_REJECTION/i);
    await sluice!.kill();
    sluice = undefined;
    await forwarder!.close();
  },
);

test(
  'a host that stays away holds the retry only until its own time limit for the orphan has passed',
  { timeout: 300_000 },
  async () => {
    // The host stops the build at 15 s plus its margin: the retry waits for that, not for the host.
    const b = await bed('away', ', command_timeout: 15s');
    const workspace = await orphanOnClosedHost(b);
    await b.start();
    await waitForSluice(sluice, 'the retry to say it waits', () => b.logOf(2).some((line) => WAITING.test(line)));
    const passed =
      'the time limit host1 holds what attempt 1 left running to has passed, so it has stopped by itself: this attempt starts now; Sluice removes its workspace once host1 can be reached';
    await waitForSluice(sluice, 'the retry to go on after the limit', () => b.logOf(2).includes(passed), 180_000);
    await waitForSluice(sluice, 'the retried build to fail on the closed host', () => {
      const runs = heldCheckRuns(github, 'Sluice: build', b.commit);
      return runs.length === 2 && runs[1]?.conclusion === 'failure';
    });
    const log = b.logOf(2);
    assert.ok(log.findIndex((line) => WAITING.test(line)) < log.indexOf(passed), log.join('\n'));
    assert.deepEqual(await b.orphans(), [], 'the host stopped the orphan by itself');
    assert.ok(existsSync(workspace), 'its workspace waits for the host');
    assert.doesNotMatch(sluice!.output(), /unhandled|ERR_UNHANDLED_REJECTION/i);
  },
);
