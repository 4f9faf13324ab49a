/**
 * A retry whose earlier attempt left a command on a host recovery could not
 * reach (PRODUCT R3): it waits and says why, a cancel ends the wait, and it
 * goes on once the host's own limit for that command has passed. A cancel
 * does not wait for a try of a host that takes the connection and never answers.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { serverSchema } from '../../src/config/server.schema.ts';
import { holdForOrphans } from '../../src/runner/hold-for-orphans.ts';
import { hostExecutors } from '../../src/runner/host-executors.ts';
import { stopOrphans } from '../../src/runner/stop-orphans.ts';
import { LIVE_COMMAND, liveKeyPrefix, type LiveCommand } from '../../src/runner/track-commands.ts';
import type { ActionRef } from '../../src/store/store.ts';
import { openStore } from '../../src/store/open-store.ts';

const first: ActionRef = { executionId: 'e1', stage: 'build', action: 'compile', attempt: 1 };
const retry: ActionRef = { ...first, attempt: 2 };
const host = { name: 'host1', address: '127.0.0.1', port: 1 };

async function storeWith(t: { after(fn: () => Promise<void>): void }, command: Partial<LiveCommand>) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-hold-'));
  const store = await openStore({ dataDir: dir });
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const now = Date.now();
  const record: LiveCommand = {
    ref: first,
    host,
    mark: 'aaaaaaaaaaaaaaaa',
    pgid: 4242,
    unreachable: { since: now, nextTryAt: now, tries: 1, error: 'connection refused' },
    ...command,
  };
  await store.putRef(LIVE_COMMAND, `${liveKeyPrefix(record.ref)}${record.mark}`, record, now);
  return store;
}

test('a retry held for an unreachable host says why, and a cancel ends the wait', async (t) => {
  const store = await storeWith(t, { startedAt: Date.now(), hostLimitMs: 3_600_000 });
  const lines: string[] = [];
  const controller = new AbortController();
  const tried: number[] = [];
  const held = holdForOrphans(store, async (ref) => void tried.push(ref.attempt), {
    ref: retry,
    signal: controller.signal,
    log: (text) => {
      lines.push(text);
      controller.abort();
    },
  });
  assert.deepEqual(await held, { ok: false, reason: 'cancelled while it waited for host1' });
  assert.match(
    lines[0] ?? '',
    /^⏸ waiting: Sluice cannot reach host1 to stop what attempt 1 left running there \(connection refused\); this attempt starts once it can, at the latest at \d{4}-/,
  );
  assert.deepEqual(tried, [1], 'it tried the host for the first attempt');
});

test('a retry goes on once the host’s own limit for the orphan has passed, counted from its start', async (t) => {
  const store = await storeWith(t, { startedAt: Date.now() - 120_000, hostLimitMs: 60_000 });
  const lines: string[] = [];
  const held = await holdForOrphans(store, async () => {}, {
    ref: retry,
    signal: new AbortController().signal,
    log: (text) => lines.push(text),
  });
  assert.equal(held, undefined);
  assert.deepEqual(lines, [
    'the time limit host1 holds what attempt 1 left running to has passed, so it has stopped by itself: this attempt starts now; Sluice removes its workspace once host1 can be reached',
  ]);
});

test('an action with nothing left by earlier attempts starts at once, without a word', async (t) => {
  const store = await storeWith(t, { ref: { ...first, action: 'other' } });
  const lines: string[] = [];
  const held = await holdForOrphans(store, () => Promise.reject(new Error('not tried')), {
    ref: retry,
    signal: new AbortController().signal,
    log: (text) => lines.push(text),
  });
  assert.equal(held, undefined);
  assert.deepEqual(lines, []);
});

test('a cancel ends the wait while Sluice still tries a host that takes the connection and never answers', async (t) => {
  const store = await storeWith(t, { startedAt: Date.now(), hostLimitMs: 3_600_000 });
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    controller.abort();
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });
  const dir = mkdtempSync(join(tmpdir(), 'sluice-hold-key-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await promisify(execFile)('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'key')]);
  writeFileSync(join(dir, 'known_hosts'), '');
  // Longer than the test may take: the cancel must not wait for it.
  const server = serverSchema.parse({
    ssh: { user: 'deploy', key: join(dir, 'key'), known_hosts: join(dir, 'known_hosts'), connect_timeout: '10m' },
  });
  const executorFor = hostExecutors(server, dir);
  const [record] = await store.listRefs(LIVE_COMMAND, '');
  await store.putRef(LIVE_COMMAND, record!.key, { ...record!.value, host: { ...host, port: address(silent) } }, 0);
  const controller = new AbortController();
  const held = await holdForOrphans(store, (ref) => stopOrphans(store, executorFor, ref), {
    ref: retry,
    signal: controller.signal,
    log: () => {},
  });
  assert.deepEqual(held, { ok: false, reason: 'cancelled while it waited for host1' });
  assert.equal(sockets.size, 1, 'the host was being tried');
});

function address(server: Server): number {
  return (server.address() as AddressInfo).port;
}
