import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ExecutorError, type ExecSession, type OutputStream } from '../../src/executor/executor.ts';
import { LocalExecutor } from '../../src/executor/local-executor.ts';

const LOCAL = { name: 'local', address: 'local' };
let markerCount = 0;

/** A `sleep` duration no other process on the machine is using, to find with pgrep. */
function uniqueSleep(): string {
  markerCount += 1;
  return `4321.${process.pid}${markerCount}`;
}

async function processesMatching(pattern: string): Promise<string[]> {
  try {
    const { stdout } = await promisify(execFile)('pgrep', ['-f', pattern]);
    return stdout.trim().split('\n');
  } catch (error) {
    if ((error as { code?: number }).code === 1) return [];
    throw error;
  }
}

function recorder() {
  const lines: Array<{ line: string; stream: OutputStream; at: number }> = [];
  return {
    lines,
    onLine: (line: string, stream: OutputStream) => lines.push({ line, stream, at: Date.now() }),
    of: (stream: OutputStream) => lines.filter((l) => l.stream === stream).map((l) => l.line),
  };
}

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
    assert.ok(session.workspace.startsWith(await import('node:fs/promises').then((fs) => fs.realpath(base))));
    const other = await executor.open(LOCAL);
    assert.notEqual(other.workspace, session.workspace);
    assert.deepEqual(await readdir(other.workspace), []);
    await other.close();
  });

  it('streams output line by line, in order, as it is printed', async () => {
    const out = recorder();
    const started = Date.now();
    const result = await session.run(
      "echo one; printf 'two\\r\\nthr'; printf 'ee\\n'; echo oops >&2; sleep 0.4; printf 'last, no newline'",
      {
        timeoutMs: 5000,
        onLine: out.onLine,
      },
    );
    assert.deepEqual(result, { exitCode: 0, timedOut: false, aborted: false });
    assert.deepEqual(out.of('stdout'), ['one', 'two', 'three', 'last, no newline']);
    assert.deepEqual(out.of('stderr'), ['oops']);
    const first = out.lines.find((l) => l.line === 'one');
    assert.ok(first && first.at - started < 350, 'the first line arrived before the command finished');
  });

  it('reports a non-zero exit as a result instead of throwing', async () => {
    const result = await session.run('echo failing >&2; exit 3', { timeoutMs: 5000 });
    assert.deepEqual(result, { exitCode: 3, timedOut: false, aborted: false });
  });

  it('runs in the workspace with a clean environment plus the given variables', async () => {
    process.env.SLUICE_TEST_LEAK = 'from-the-sluice-process';
    const out = recorder();
    await session.run(
      'pwd; echo "leak=${SLUICE_TEST_LEAK:-none}"; echo "token=$TOKEN"; command -v bash >/dev/null && echo path-ok',
      {
        timeoutMs: 5000,
        env: { TOKEN: 'abc' },
        onLine: out.onLine,
      },
    );
    delete process.env.SLUICE_TEST_LEAK;
    assert.deepEqual(out.of('stdout'), [session.workspace, 'leak=none', 'token=abc', 'path-ok']);
  });

  it('feeds stdin to the command, or gives it none', async () => {
    const out = recorder();
    await session.run('cat', { timeoutMs: 5000, stdin: 'hello\nworld\n', onLine: out.onLine });
    assert.deepEqual(out.of('stdout'), ['hello', 'world']);
    const empty = recorder();
    const result = await session.run('cat; echo done', { timeoutMs: 5000, onLine: empty.onLine });
    assert.equal(result.exitCode, 0);
    assert.deepEqual(empty.of('stdout'), ['done']);
  });

  it('runs in a cwd relative to the workspace, and refuses one that does not exist', async () => {
    await session.run('mkdir -p sub', { timeoutMs: 5000 });
    const out = recorder();
    await session.run('pwd', { timeoutMs: 5000, cwd: 'sub', onLine: out.onLine });
    assert.deepEqual(out.of('stdout'), [join(session.workspace, 'sub')]);
    await assert.rejects(
      session.run('touch should-not-exist', { timeoutMs: 5000, cwd: join(session.workspace, 'missing') }),
      (error: unknown) =>
        error instanceof ExecutorError &&
        error.code === 'WORKSPACE_FAILED' &&
        /missing does not exist/.test(error.message),
    );
    assert.deepEqual(
      await readdir(session.workspace).then((names) => names.filter((n) => n === 'should-not-exist')),
      [],
    );
  });

  it('kills a command that hangs at its timeout, children and grandchildren included', async () => {
    const a = uniqueSleep();
    const b = uniqueSleep();
    const started = Date.now();
    const result = await session.run(`sleep ${a} & bash -c 'sleep ${b}'; echo never`, { timeoutMs: 300 });
    assert.deepEqual(result, { exitCode: null, timedOut: true, aborted: false });
    assert.ok(Date.now() - started < 3000);
    assert.deepEqual(await processesMatching(`sleep ${a}`), []);
    assert.deepEqual(await processesMatching(`sleep ${b}`), []);
  });

  it('uses SIGKILL when the command ignores SIGTERM', async () => {
    const marker = uniqueSleep();
    const result = await session.run(`trap '' TERM; sleep ${marker}`, { timeoutMs: 200 });
    assert.equal(result.timedOut, true);
    assert.deepEqual(await processesMatching(`sleep ${marker}`), []);
  });

  it('kills the whole process group when the signal aborts', async () => {
    const marker = uniqueSleep();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const result = await session.run(`bash -c 'sleep ${marker}' & wait`, {
      timeoutMs: 10_000,
      signal: controller.signal,
    });
    assert.deepEqual(result, { exitCode: null, timedOut: false, aborted: true });
    assert.deepEqual(await processesMatching(`sleep ${marker}`), []);
  });

  it('does not start a command whose signal is already aborted', async () => {
    const result = await session.run('touch started', { timeoutMs: 5000, signal: AbortSignal.abort() });
    assert.equal(result.aborted, true);
    await assert.rejects(stat(join(session.workspace, 'started')));
  });

  it('stops what a command left running in the background once it exits', async () => {
    const marker = uniqueSleep();
    const started = Date.now();
    const result = await session.run(`sleep ${marker} & echo started`, { timeoutMs: 10_000 });
    assert.deepEqual(result, { exitCode: 0, timedOut: false, aborted: false });
    assert.ok(Date.now() - started < 3000, 'the background process did not hold the command open');
    assert.deepEqual(await processesMatching(`sleep ${marker}`), []);
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
      for (const pid of await processesMatching(`sleep ${marker}`)) process.kill(Number(pid), 'SIGKILL');
    }
  });

  it('with leftovers kept, still stops the whole group at a timeout', async () => {
    const a = uniqueSleep();
    const b = uniqueSleep();
    const result = await session.run(`sleep ${a} & sleep ${b}`, { timeoutMs: 300, leftovers: 'keep' });
    assert.deepEqual(result, { exitCode: null, timedOut: true, aborted: false });
    assert.deepEqual(await processesMatching(`sleep ${a}`), []);
    assert.deepEqual(await processesMatching(`sleep ${b}`), []);
  });

  it('copies files in and out of the workspace', async () => {
    const local = await mkdtemp(join(tmpdir(), 'sluice-copy-'));
    try {
      await writeFile(join(local, 'in.txt'), 'payload\n');
      await session.upload(join(local, 'in.txt'), join(session.workspace, 'in.txt'));
      await session.run('tr a-z A-Z < in.txt > out.txt', { timeoutMs: 5000 });
      await session.download(join(session.workspace, 'out.txt'), join(local, 'out.txt'));
      assert.equal(await readFile(join(local, 'out.txt'), 'utf8'), 'PAYLOAD\n');
      await assert.rejects(
        session.download('nope.txt', join(local, 'x')),
        (error: unknown) => error instanceof ExecutorError && error.code === 'TRANSFER_FAILED',
      );
    } finally {
      await rm(local, { recursive: true, force: true });
    }
  });

  it('removes the workspace on close, twice without complaint, and kills what still runs', async () => {
    const other = await executor.open(LOCAL);
    const marker = uniqueSleep();
    const running = other.run(`sleep ${marker}`, { timeoutMs: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await other.close();
    await other.close();
    assert.equal((await running).aborted, true);
    await assert.rejects(stat(other.workspace));
    assert.deepEqual(await processesMatching(`sleep ${marker}`), []);
    await assert.rejects(other.run('true', { timeoutMs: 1000 }), ExecutorError);
  });

  it('refuses a host that is not local', async () => {
    await assert.rejects(
      executor.open({ name: 'web1', address: '10.0.1.11' }),
      (error: unknown) => error instanceof ExecutorError && error.code === 'HOST_UNREACHABLE',
    );
  });
});
