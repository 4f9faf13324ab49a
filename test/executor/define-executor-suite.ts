/**
 * What every executor does, whether its commands run on this machine or on
 * a host over SSH: stream output as it comes, run in the workspace with only
 * the given environment, stop a command and all it started at a timeout or
 * an abort, copy files in and out, and clean up on close. Run once per
 * executor (executor.test.ts), as the store suite is run once per database.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ExecutorError, type ExecSession } from '../../src/executor/executor.ts';
import { quoteArg } from '../../src/executor/shell-quote.ts';
import type { ExecutorBackend, ExecutorPlace } from './executor-backends.ts';
import { eventually, isCode, processesMatching, recorder, uniqueSleep } from './executor-probes.ts';

export function defineExecutorSuite(backend: ExecutorBackend): void {
  describe(backend.name, () => {
    let place: ExecutorPlace;
    let session: ExecSession;

    before(async () => {
      place = await backend.start();
      session = await place.executor.open(place.host);
    });
    after(async () => {
      await session?.close();
      await place?.stop();
    });

    it('opens a fresh, empty workspace under its base directory', async () => {
      assert.ok(session.workspace.startsWith(`${place.baseDir}/sluice-ws-`), session.workspace);
      const other = await place.executor.open(place.host);
      assert.notEqual(other.workspace, session.workspace);
      assert.deepEqual(await readdir(other.workspace), []);
      await other.close();
    });

    it('streams output line by line, in order, as it is printed', async () => {
      const out = recorder();
      const result = await session.run(
        "echo one; printf 'two\\r\\nthr'; printf 'ee\\n'; echo oops >&2; sleep 0.5; printf 'last, no newline'",
        { timeoutMs: 5000, onLine: out.onLine },
      );
      assert.deepEqual(result, { exitCode: 0, timedOut: false, aborted: false });
      assert.deepEqual(out.of('stdout'), ['one', 'two', 'three', 'last, no newline']);
      assert.deepEqual(out.of('stderr'), ['oops']);
      const first = out.lines.find((l) => l.line === 'one');
      const last = out.lines.find((l) => l.line === 'last, no newline');
      assert.ok(first && last && last.at - first.at >= 400, 'the first line arrived while the command still ran');
    });

    it('reports a non-zero exit as a result instead of throwing', async () => {
      const result = await session.run('echo failing >&2; exit 3', { timeoutMs: 5000 });
      assert.deepEqual(result, { exitCode: 3, timedOut: false, aborted: false });
    });

    it('runs in the workspace with a clean environment plus the given variables', async () => {
      process.env.SLUICE_TEST_LEAK = 'from-the-sluice-process';
      const out = recorder();
      try {
        await session.run(
          'pwd; echo "leak=${SLUICE_TEST_LEAK:-none}"; echo "token=$TOKEN"; command -v bash >/dev/null && echo path-ok',
          { timeoutMs: 5000, env: { TOKEN: 'abc' }, onLine: out.onLine },
        );
      } finally {
        delete process.env.SLUICE_TEST_LEAK;
      }
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

    it('runs in a cwd relative to the workspace, and refuses one that does not exist instead of running elsewhere', async () => {
      await session.run('mkdir -p sub', { timeoutMs: 5000 });
      const out = recorder();
      await session.run('pwd', { timeoutMs: 5000, cwd: 'sub', onLine: out.onLine });
      assert.deepEqual(out.of('stdout'), [join(session.workspace, 'sub')]);

      const marker = `should-not-exist-${process.pid}`;
      await assert.rejects(
        session.run(`touch ${marker}`, { timeoutMs: 5000, cwd: join(session.workspace, 'missing') }),
        isCode('WORKSPACE_FAILED', new RegExp(`working directory .*/missing does not exist${backend.onHost}`)),
      );
      await assert.rejects(stat(join(homedir(), marker)), 'nothing ran in the home directory');
      await assert.rejects(stat(join(process.cwd(), marker)), "nothing ran in Sluice's own directory");
      await assert.rejects(stat(join(session.workspace, marker)));
    });

    it('copies a few MiB in and out unchanged, and reports a missing file as a transfer failure', async () => {
      const local = await mkdtemp(join(tmpdir(), 'sluice-copy-'));
      const sha256 = async (path: string) =>
        createHash('sha256')
          .update(await readFile(path))
          .digest('hex');
      try {
        await writeFile(join(local, 'in.bin'), randomBytes(5 * 1024 * 1024 + 123));
        await session.upload(join(local, 'in.bin'), 'in.bin');
        await session.run('cp in.bin back.bin', { timeoutMs: 5000 });
        await session.download(join(session.workspace, 'back.bin'), join(local, 'out.bin'));
        assert.equal(await sha256(join(local, 'out.bin')), await sha256(join(local, 'in.bin')));
        await assert.rejects(
          session.download('nope.bin', join(local, 'x')),
          isCode('TRANSFER_FAILED', backend.missingDownload),
        );
        await assert.rejects(session.upload(join(local, 'nope.bin'), 'x'), isCode('TRANSFER_FAILED'));
      } finally {
        await rm(local, { recursive: true, force: true });
      }
    });

    it('kills a command that hangs at its timeout, children and grandchildren included', async () => {
      const a = uniqueSleep();
      const b = uniqueSleep();
      const started = Date.now();
      const result = await session.run(`sleep ${a} & bash -c 'sleep ${b}'; echo never`, { timeoutMs: 300 });
      assert.deepEqual(result, { exitCode: null, timedOut: true, aborted: false });
      assert.ok(Date.now() - started < 3000, `stopped after ${Date.now() - started} ms`);
      assert.deepEqual(await processesMatching(a), []);
      assert.deepEqual(await processesMatching(b), []);
    });

    it('uses SIGKILL when the command ignores SIGTERM', async () => {
      const marker = uniqueSleep();
      const result = await session.run(`trap '' TERM; sleep ${marker}`, { timeoutMs: 200 });
      assert.equal(result.timedOut, true);
      assert.deepEqual(await processesMatching(marker), []);
    });

    it('kills the whole process group when the signal aborts', async () => {
      const marker = uniqueSleep();
      const controller = new AbortController();
      const running = session.run(`bash -c 'sleep ${marker}' & sleep ${marker} & wait`, {
        timeoutMs: 10_000,
        signal: controller.signal,
      });
      const started = await eventually(
        () => processesMatching(`^sleep ${marker}$`),
        (pids) => pids.length > 0,
      );
      assert.notDeepEqual(started, [], 'the command started');
      controller.abort();
      assert.deepEqual(await running, { exitCode: null, timedOut: false, aborted: true });
      assert.deepEqual(await processesMatching(marker), []);
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
      assert.deepEqual(await processesMatching(marker), []);
    });

    it("with leftovers kept, ends at the command's exit while a background process holds its output, and that process runs on", async () => {
      const marker = uniqueSleep();
      const out = recorder();
      const result = await session.run(`nohup sleep ${marker} & echo started`, {
        timeoutMs: 10_000,
        leftovers: 'keep',
        onLine: out.onLine,
      });
      try {
        assert.deepEqual(result, { exitCode: 0, timedOut: false, aborted: false });
        assert.deepEqual(out.of('stdout'), ['started']);
        assert.equal((await processesMatching(`sleep ${marker}`)).length, 1);
      } finally {
        for (const pid of await processesMatching(`sleep ${marker}`)) process.kill(pid, 'SIGKILL');
      }
    });

    it('with leftovers kept, still stops the whole group at a timeout', async () => {
      const a = uniqueSleep();
      const b = uniqueSleep();
      const result = await session.run(`sleep ${a} & sleep ${b}`, { timeoutMs: 300, leftovers: 'keep' });
      assert.deepEqual(result, { exitCode: null, timedOut: true, aborted: false });
      assert.deepEqual(await processesMatching(a), []);
      assert.deepEqual(await processesMatching(b), []);
    });

    it('passes branch-name-like values through quoteArg literally, running nothing', async () => {
      const pwned = `/tmp/pwned-${process.pid}-${randomBytes(4).toString('hex')}`;
      const evil = [`$(touch ${pwned})`, ';id;#', "it's `touch " + pwned + '`'];
      const out = recorder();
      await session.run(`printf '%s\\n' ${evil.map(quoteArg).join(' ')}; mkdir -p -- ${quoteArg(evil[0] as string)}`, {
        timeoutMs: 5000,
        onLine: out.onLine,
      });
      // The executor's own quoting: the same value as cwd and in the environment.
      await session.run('pwd; printf "%s\\n" "$BRANCH"', {
        timeoutMs: 5000,
        cwd: evil[0],
        env: { BRANCH: evil[1] as string },
        onLine: out.onLine,
      });
      assert.deepEqual(out.of('stdout'), [...evil, join(session.workspace, evil[0] as string), evil[1]]);
      assert.deepEqual(out.of('stderr'), []);
      await assert.rejects(stat(pwned), 'no command substitution ran');
    });

    it('removes the workspace on close, twice without complaint, and kills what still runs', async () => {
      const other = await place.executor.open(place.host);
      const marker = uniqueSleep();
      const running = other.run(`sleep ${marker}`, { timeoutMs: 10_000 });
      const started = await eventually(
        () => processesMatching(`^sleep ${marker}$`),
        (pids) => pids.length > 0,
      );
      assert.notDeepEqual(started, [], 'the command started');
      await other.close();
      await other.close();
      assert.equal((await running).aborted, true);
      await assert.rejects(stat(other.workspace));
      assert.deepEqual(await processesMatching(marker), []);
      await assert.rejects(other.run('true', { timeoutMs: 1000 }), ExecutorError);
    });
  });
}
