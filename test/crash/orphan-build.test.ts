/**
 * Sluice killed with SIGKILL in the middle of a build on an SSH host
 * (PRODUCT R3). Its build runs on there, an orphan; the restarted Sluice
 * stops it and removes its workspace before it says it is up, the
 * interrupted attempt's log says so, and a retry from GitHub builds with
 * nothing of the first attempt running beside it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { GithubStandIn } from '../helpers/github-stand-in.ts';
import { heldCheckRuns, rerunPayload, sleepingBuild, waitForSluice } from '../helpers/fault-checks.ts';
import { pushPayload, sendWebhook, sha } from '../helpers/github-webhooks.ts';
import type { SluiceProcess } from '../helpers/sluice-process.ts';
import { startSshHosts, type SshHosts } from '../helpers/ssh-hosts.ts';
import { startSluiceIn } from '../helpers/sluice-in-dir.ts';

const run = promisify(execFile);
const SECRET = 'orphan-webhook-secret';
const REPO = 'acme/orphans';
// The build's own sleep, not a shell whose command line names it.
const SLEEP = `7777.${process.pid}`;
const ONLY_SLEEP = `^sleep ${SLEEP.replace('.', '[.]')}$`;

let github: GithubStandIn;
let ssh: SshHosts;
let dir = '';
let sluice: SluiceProcess | undefined;

before(async () => {
  github = await new GithubStandIn().start();
  github.install(REPO);
  ssh = await startSshHosts(1);
  dir = mkdtempSync(join(tmpdir(), 'sluice-orphan-'));
  const host = ssh.hosts[0]!;
  writeFileSync(
    join(dir, 'server.yml'),
    `ssh: { user: ${ssh.user}, key: ${ssh.keyPath}, known_hosts: ${ssh.knownHostsPath} }\nhosts:\n  builder: [{ name: ${host.name}, address: 127.0.0.1, port: ${host.port} }]\n`,
  );
});

after(async () => {
  await sluice?.kill();
  await ssh?.stop();
  await github?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function start(): Promise<SluiceProcess> {
  sluice = await startSluiceIn(dir, github, SECRET);
  return sluice;
}

/** Pids of the build's sleep on the host (the hosts share this machine's processes). */
async function orphans(): Promise<number[]> {
  const { stdout } = await run('pgrep', ['-f', ONLY_SLEEP]).catch((error: { code?: number }) => {
    if (error.code === 1) return { stdout: '' };
    throw error;
  });
  return stdout.trim().split('\n').filter(Boolean).map(Number);
}

function logOf(attempt: number): string[] {
  const db = new DatabaseSync(join(dir, 'data', 'sluice.db'), { readOnly: true });
  try {
    const rows = db
      .prepare("SELECT text FROM log_lines WHERE stage = 'build' AND action = 'compile' AND attempt = ? ORDER BY seq")
      .all(attempt) as Array<{ text: string }>;
    return rows.map((row) => row.text);
  } finally {
    db.close();
  }
}

test(
  'after a kill -9 mid-build, the restarted Sluice stops the orphaned build before the retried one starts',
  { timeout: 300_000 },
  async () => {
    const gate = join(dir, 'gate');
    const pipeline = sleepingBuild(SLEEP, gate);
    github.addCommit(REPO, sha(1), { '.github/sluice.yml': pipeline, VERSION: 'v1\n' });
    github.setBranch(REPO, 'main', sha(1));
    await start();
    const waitFor = (what: string, check: () => boolean | Promise<boolean>) => waitForSluice(sluice, what, check);

    assert.equal(
      (
        await sendWebhook(sluice!.url, SECRET, 'push', pushPayload({ repo: REPO, after: sha(1) }), {
          delivery: 'push-1',
        })
      ).status,
      200,
    );
    await waitFor('the build to run on the host', async () => (await orphans()).length === 1);
    const [pid] = await orphans();
    const workspace = dirname(readlinkSync(`/proc/${pid}/cwd`));
    assert.match(workspace, /\/sluice-ws-/);

    await sluice!.kill();
    assert.equal((await orphans()).length, 1, 'the build outlives the Sluice that started it');
    assert.ok(existsSync(workspace));

    // Up again only once recovery is done: by then the orphan is gone, and its workspace.
    await start();
    assert.deepEqual(await orphans(), [], 'the orphaned build is stopped');
    assert.equal(existsSync(workspace), false, `${workspace} is removed`);
    assert.ok(
      logOf(1).some((line) =>
        /^stopped what Sluice left running on host1 when it stopped \(process group \d+\), removed its workspace$/.test(
          line,
        ),
      ),
      logOf(1).join('\n'),
    );

    await waitFor(
      'the interrupted build on GitHub',
      () => heldCheckRuns(github, 'Sluice: build', sha(1))[0]?.conclusion !== undefined,
    );
    const [build] = heldCheckRuns(github, 'Sluice: build', sha(1));
    writeFileSync(gate, '');
    assert.equal(
      (await sendWebhook(sluice!.url, SECRET, 'check_run', rerunPayload(github, build!, REPO, sha(1)))).status,
      200,
    );
    await waitFor(
      'the retried build to succeed',
      () => heldCheckRuns(github, 'Sluice: build', sha(1)).at(-1)?.conclusion === 'success',
    );
    assert.ok(logOf(2).includes('running before me: 0'), `the retried build ran alone:\n${logOf(2).join('\n')}`);
    assert.doesNotMatch(sluice!.output(), /unhandled|ERR_UNHANDLED_REJECTION/i);
  },
);
