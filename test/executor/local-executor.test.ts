/** What only the local executor does; what every executor does is in define-executor-suite.ts. */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ExecutorError, type ExecSession } from '../../src/executor/executor.ts';
import { LocalExecutor } from '../../src/executor/local-executor.ts';
import { processesMatching, uniqueSleep } from './executor-probes.ts';

const LOCAL = { name: 'local', address: 'local' };

describe('LocalExecutor', () => {
  let base: string;
  let executor: LocalExecutor;
  let session: ExecSession;

  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'sluice-local-'));
    executor = new LocalExecutor({ baseDir: base, killGraceMs: 300 });
    session = await executor.open(LOCAL);
  });
  after(async () => {
    await session.close();
    await rm(base, { recursive: true, force: true });
  });

  it('opens a fresh, empty workspace under its base directory', async () => {
    assert.ok(session.workspace.startsWith(await realpath(base)));
    const other = await executor.open(LOCAL);
    assert.notEqual(other.workspace, session.workspace);
    assert.deepEqual(await readdir(other.workspace), []);
    await other.close();
  });

  it("with leftovers kept, ends at the command's exit while a background process holds its output, and that process runs on", async () => {
    const marker = uniqueSleep();
    const out: string[] = [];
    const result = await session.run(`nohup sleep ${marker} & echo started`, {
      timeoutMs: 10_000,
      leftovers: 'keep',
      onLine: (line) => out.push(line),
    });
    try {
      assert.deepEqual(result, { exitCode: 0, timedOut: false, aborted: false });
      assert.deepEqual(out, ['started']);
      assert.equal((await processesMatching(`sleep ${marker}`)).length, 1);
    } finally {
      for (const pid of await processesMatching(`sleep ${marker}`)) process.kill(pid, 'SIGKILL');
    }
  });

  it('refuses a host that is not local', async () => {
    await assert.rejects(
      executor.open({ name: 'web1', address: '10.0.1.11' }),
      (error: unknown) => error instanceof ExecutorError && error.code === 'HOST_UNREACHABLE',
    );
  });
});
