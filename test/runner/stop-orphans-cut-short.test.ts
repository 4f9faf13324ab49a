/**
 * A stop of what a dead Sluice process left on a host that is itself cut
 * short there (killed: the OOM killer, an operator's kill, a host going
 * down) has not stopped it (PRODUCT R3). Its records stay, as for a host
 * that cannot be reached: a retry tries again, and waits for them.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { serverSchema } from '../../src/config/server.schema.ts';
import { holdForOrphans } from '../../src/runner/hold-for-orphans.ts';
import { hostExecutors } from '../../src/runner/host-executors.ts';
import { stopOrphans } from '../../src/runner/stop-orphans.ts';
import { LIVE_COMMAND, liveKeyPrefix, type LiveCommand } from '../../src/runner/track-commands.ts';
import { openStore } from '../../src/store/open-store.ts';
import { startSshHosts, type SshHosts } from '../helpers/ssh-hosts.ts';

let ssh: SshHosts;

before(async () => {
  ssh = await startSshHosts(1);
});

after(async () => {
  await ssh?.stop();
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('a stop killed on the host keeps the records of what it did not stop', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-cut-short-'));
  const store = await openStore({ dataDir: join(dir, 'data') });
  const mark = randomBytes(8).toString('hex');
  // The orphan, as the host runs it: its own group, the command's mark. Its first SIGTERM kills the stop
  // that sent it (a stand-in for the OOM killer, or a host going down, at that moment), and it runs on.
  const ready = join(dir, 'ready');
  const cut = `pkill -KILL -f " [0-9]+:$SLUICE_COMMAND_MARK --( |\\$)"`;
  const orphan = spawn('bash', ['-c', `trap '${cut}; trap "" TERM' TERM; : > ${ready}; while :; do sleep 1; done`], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, SLUICE_COMMAND_MARK: mark },
  });
  const pid = orphan.pid!;
  const exited = once(orphan, 'exit');
  let died = '';
  void exited.then(([code, signal]) => (died = `it exited (${signal ?? code})`));
  while (!existsSync(ready)) await delay(10); // Its trap is set.
  t.after(async () => {
    if (alive(pid)) process.kill(-pid, 'SIGKILL');
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const host = ssh.hosts[0]!;
  const ref = { executionId: 'e1', stage: 'build', action: 'compile', attempt: 1 };
  const record: LiveCommand = {
    ref,
    host: { name: host.name, address: host.address, port: host.port },
    mark,
    pgid: pid,
    startedAt: Date.now(),
    hostLimitMs: 3_600_000,
  };
  await store.putRef(LIVE_COMMAND, `${liveKeyPrefix(ref)}${mark}`, record, Date.now());
  const server = serverSchema.parse({ ssh: { user: ssh.user, key: ssh.keyPath, known_hosts: ssh.knownHostsPath } });
  const executorFor = hostExecutors(server, join(dir, 'data'));

  await stopOrphans(store, executorFor, ref);

  assert.ok(alive(pid), `the orphan runs on: its stop never sent SIGKILL; but ${died}`);
  const kept = await store.listRefs(LIVE_COMMAND, '');
  assert.equal(kept.length, 1, 'its record stays, for a retry to wait for');
  assert.equal(kept[0]?.value.unreachable?.error, 'the stop there ended early: killed by SIGKILL');

  // The retry tries again before it starts, and this time the stop goes through.
  const retried = await holdForOrphans(store, (earlier) => stopOrphans(store, executorFor, earlier), {
    ref: { ...ref, attempt: 2 },
    signal: new AbortController().signal,
    log: () => {},
  });
  assert.equal(retried, undefined, 'the retry starts');
  assert.deepEqual(await exited, [null, 'SIGKILL'], 'once the orphan is stopped');
  assert.deepEqual(await store.listRefs(LIVE_COMMAND, ''), []);
});
