/**
 * The service's sweep tries again the hosts recovery could not reach
 * (PRODUCT R3). A host that accepts TCP but never answers SSH costs a
 * whole connect timeout per try; with several attempts' orphans recorded
 * there, the sweep must try it once, not once per attempt one after the
 * other: the sweep also interrupts dead replicas' actions, expires
 * approvals, catches Slack up, and a stopping Sluice waits for it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { serverSchema } from '../../src/config/server.schema.ts';
import { hostExecutors } from '../../src/runner/host-executors.ts';
import { retryUnreachable } from '../../src/runner/stop-orphans.ts';
import { LIVE_COMMAND, liveKeyPrefix, type LiveCommand } from '../../src/runner/track-commands.ts';
import { openStore } from '../../src/store/open-store.ts';

const run = promisify(execFile);

test('a host that accepts TCP but never answers SSH is tried once per sweep, whatever the number of attempts left there', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-retry-away-'));
  const store = await openStore({ dataDir: join(dir, 'data') });
  const sockets = new Set<Socket>();
  let accepted = 0;
  // Takes the connection and says nothing: no SSH banner, ever.
  const silent = createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const port = (silent.address() as { port: number }).port;
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'key')]);
  writeFileSync(join(dir, 'known_hosts'), '');
  const server = serverSchema.parse({
    ssh: { user: 'deploy', key: join(dir, 'key'), known_hosts: join(dir, 'known_hosts'), connect_timeout: '1s' },
  });

  const host = { name: 'host1', address: '127.0.0.1', port };
  const earlier = Date.now() - 60_000;
  for (const [i, action] of ['compile', 'lint', 'test'].entries()) {
    const ref = { executionId: 'e1', stage: 'build', action, attempt: 1 };
    const record: LiveCommand = {
      ref,
      host,
      mark: `${i}`.repeat(16),
      pgid: 4242 + i,
      unreachable: { since: earlier, nextTryAt: earlier, tries: 1, error: 'connection refused' },
    };
    await store.putRef(LIVE_COMMAND, `${liveKeyPrefix(ref)}${record.mark}`, record, earlier);
  }

  await retryUnreachable(store, hostExecutors(server, join(dir, 'data')));

  assert.equal(accepted, 1, 'one try of the host for the three attempts');
  const kept = await store.listRefs(LIVE_COMMAND, '');
  assert.equal(kept.length, 3, 'the records stay for the next try');
  for (const { value } of kept) {
    assert.equal(value.unreachable?.tries, 2);
    assert.equal(value.unreachable?.since, earlier, 'away since the first failure');
    assert.ok((value.unreachable?.nextTryAt ?? 0) > Date.now(), 'not due again at once');
  }
});
