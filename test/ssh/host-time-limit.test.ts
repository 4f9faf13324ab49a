/**
 * A command whose Sluice process is gone for good (here: its connection
 * killed, so nobody can send the stop) still ends: the host stops its whole
 * process group by itself at the command's time limit plus a margin,
 * also what ignores SIGTERM, and for a deploy hook (whose leftovers may
 * otherwise run on) too: a hook that times out keeps nothing running.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { ExecutorError } from '../../src/executor/executor.ts';
import { SshExecutor } from '../../src/ssh/ssh-executor.ts';
import { startSshHosts, type SshHosts } from '../helpers/ssh-hosts.ts';

const run = promisify(execFile);
let hosts: SshHosts;

before(async () => {
  hosts = await startSshHosts(1);
});
after(async () => {
  await hosts?.stop();
});

/** Pids whose command line matches (pgrep never lists itself). */
async function processesMatching(pattern: string): Promise<number[]> {
  const { stdout } = await run('pgrep', ['-f', pattern]).catch((error: { code?: number; stdout?: string }) => {
    if (error.code === 1) return { stdout: '' };
    throw error;
  });
  return stdout.trim().split('\n').filter(Boolean).map(Number);
}

async function waitUntil(what: string, check: () => Promise<boolean>, ms = 90_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await delay(50);
  }
}

test(
  'the host stops a command at its own time limit when the connection that ran it is gone',
  { timeout: 180_000 },
  async () => {
    const sleep = `6543.${process.pid}`;
    // The sleep itself, not the shells whose command lines name it.
    const only = `^sleep ${sleep.replace('.', '\\.')}$`;
    const executor = new SshExecutor({
      user: hosts.user,
      privateKeyPath: hosts.keyPath,
      knownHostsPath: hosts.knownHostsPath,
      killGraceMs: 300,
      hostLimitMarginMs: 5000,
    });
    const session = await executor.open(hosts.host('host1'));
    let pgid: number | undefined;
    let printed!: () => void;
    const started = new Promise<void>((resolve) => (printed = resolve));
    const running = session.run(`sleep ${sleep} & echo started; wait`, {
      timeoutMs: 15_000,
      onStarted: (group) => (pgid = group),
      onLine: (line) => line === 'started' && printed(),
    });
    await started;
    assert.ok(pgid && pgid > 1, 'the host said the group id');

    // As when the Sluice process dies: the connection goes, and with it any way to send a stop.
    await hosts.signalConnections('host1', 'SIGKILL');
    await assert.rejects(
      running,
      (error: unknown) =>
        error instanceof ExecutorError &&
        error.code === 'HOST_UNREACHABLE' &&
        /may still be running there/.test(error.message),
    );
    assert.equal((await processesMatching(only)).length, 1, 'the command outlived its connection');

    await waitUntil(
      'the host to stop the command at its limit',
      async () => (await processesMatching(only)).length === 0,
    );
    const { stdout } = await run('ps', ['-A', '-o', 'pgid=,stat=']);
    assert.ok(
      !stdout
        .split('\n')
        .some((line) => line.trim().split(/\s+/)[0] === String(pgid) && !line.trim().split(/\s+/)[1]?.startsWith('Z')),
      `nothing of group ${pgid} runs on`,
    );
    await session.close();
  },
);

for (const leftovers of ['stop', 'keep'] as const) {
  test(
    `the host stops at its limit a ${leftovers === 'keep' ? 'deploy hook' : 'command'} whose child ignores SIGTERM, when the connection is gone`,
    { timeout: 180_000 },
    async () => {
      const sleep = `6544.${process.pid}${leftovers === 'keep' ? 1 : 2}`;
      const only = `^sleep ${sleep.replace('.', '\\.')}$`;
      const executor = new SshExecutor({
        user: hosts.user,
        privateKeyPath: hosts.keyPath,
        knownHostsPath: hosts.knownHostsPath,
        killGraceMs: 300,
        hostLimitMarginMs: 5000,
      });
      const session = await executor.open(hosts.host('host1'));
      let printed!: () => void;
      const started = new Promise<void>((resolve) => (printed = resolve));
      // The shell dies of timeout's SIGTERM; the sleep does not.
      const running = session.run(`bash -c 'trap "" TERM; exec sleep ${sleep}' & echo started; wait`, {
        timeoutMs: 15_000,
        leftovers,
        onLine: (line) => line === 'started' && printed(),
      });
      await started;
      await hosts.signalConnections('host1', 'SIGKILL');
      await assert.rejects(
        running,
        (error: unknown) => error instanceof ExecutorError && error.code === 'HOST_UNREACHABLE',
      );
      assert.equal((await processesMatching(only)).length, 1, 'the command outlived its connection');
      await waitUntil(
        'the host to stop the command at its limit',
        async () => (await processesMatching(only)).length === 0,
      );
      await session.close();
    },
  );
}
