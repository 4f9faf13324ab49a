/**
 * A command's exit status over SSH when Sluice is busy. A host that answers
 * fast while Sluice's event loop is held up (a loaded machine) delivers the
 * reply to the exec, the output, the exit status and the close in one read;
 * ssh2 then emits them in one go, before anyone awaiting the exec has
 * listened. The status must not be lost: "exit 3" is exit code 3, not "the
 * host closed the session without an exit status".
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ExecSession } from '../../src/executor/executor.ts';
import { SshExecutor } from '../../src/ssh/ssh-executor.ts';
import { startSshHosts, type SshHosts } from '../helpers/ssh-hosts.ts';

let hosts: SshHosts;
let session: ExecSession;

before(async () => {
  hosts = await startSshHosts(1);
  const executor = new SshExecutor({
    user: hosts.user,
    privateKeyPath: hosts.keyPath,
    knownHostsPath: hosts.knownHostsPath,
    baseDir: join(hosts.host('host1').root, 'workspaces'),
    killGraceMs: 300,
  });
  session = await executor.open(hosts.host('host1'));
});
after(async () => {
  await session?.close();
  await hosts?.stop();
});

/** Holds the event loop in slices until `done` settles, as a loaded machine does. */
function holdUpEventLoopUntil(done: Promise<unknown>): void {
  let finished = false;
  void done.finally(() => (finished = true));
  const slice = () => {
    if (finished) return;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 40);
    setImmediate(slice);
  };
  setImmediate(slice);
}

test('exit codes arrive whole while the event loop is held up', async () => {
  const codes: Array<number | null> = [];
  const lost: string[] = [];
  for (let i = 0; i < 20; i += 1) {
    const run = session.run(`exit ${i % 4}`, { timeoutMs: 30_000 });
    holdUpEventLoopUntil(run);
    const result = await run;
    codes.push(result.exitCode);
    if (result.lostExit) lost.push(result.lostExit);
  }
  assert.deepEqual(lost, []);
  assert.deepEqual(
    codes,
    Array.from({ length: 20 }, (_, i) => i % 4),
  );
});
