/**
 * What only the SSH executor does (connections, host keys, the env file, limits); what every executor does is in
 * test/executor/define-executor-suite.ts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chown, copyFile, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { ExecSession } from '../../src/executor/executor.ts';
import { quoteArg } from '../../src/executor/shell-quote.ts';
import { connectHost } from '../../src/ssh/connect-host.ts';
import { SshExecutor, type SshExecutorOptions } from '../../src/ssh/ssh-executor.ts';
import { writePrivateFile } from '../../src/ssh/transfer-file.ts';
import { startSshHosts, type SshHosts } from '../helpers/ssh-hosts.ts';
import { eventually, isCode, processesMatching, recorder, uniqueSleep } from '../executor/executor-probes.ts';

const run = promisify(execFile);

// What sshd logs (LogLevel VERBOSE) once a client offers a key or logs in.
const AUTH_ATTEMPT = /publickey|Accepted|Postponed|Failed|Starting session/;

describe('SshExecutor against real OpenSSH hosts', () => {
  let hosts: SshHosts;
  let base: string;
  let executor: SshExecutor;
  let session: ExecSession;
  let options: SshExecutorOptions;

  before(async () => {
    hosts = await startSshHosts(3);
    base = join(hosts.host('host1').root, 'workspaces');
    options = {
      user: hosts.user,
      privateKeyPath: hosts.keyPath,
      knownHostsPath: hosts.knownHostsPath,
      baseDir: base,
      killGraceMs: 300,
    };
    executor = new SshExecutor(options);
    session = await executor.open(hosts.host('host1'));
  });
  after(async () => {
    await session?.close();
    await hosts?.stop();
  });

  it('opens a private workspace: mode 0700', async () => {
    assert.ok(session.workspace.startsWith(`${base}/sluice-ws-`));
    assert.equal((await stat(session.workspace)).mode & 0o777, 0o700);
  });

  it('refuses to make workspaces in a directory someone else owns', async () => {
    // Like the sshd hosts themselves (a mount namespace each), this needs root: only root can give a directory away.
    assert.equal(process.getuid?.(), 0, 'run the SSH tests as root, as .ci/run does');
    const foreign = join(hosts.host('host1').root, 'foreign');
    await mkdir(foreign);
    await chown(foreign, 65534, 65534);
    await assert.rejects(
      new SshExecutor({ ...options, baseDir: foreign }).open(hosts.host('host1')),
      isCode(
        'WORKSPACE_FAILED',
        new RegExp(
          `could not make a workspace in ${foreign} on host host1 .*: ${foreign} is not owned by ${hosts.user}`,
        ),
      ),
    );
    assert.deepEqual(await readdir(foreign), []);
  });

  it('gives the command its environment ahead of its input on stdin, never on a command line nor in a file', async () => {
    const secret = `s3cret-${randomBytes(6).toString('hex')}`;
    const out = recorder();
    const result = await session.run('echo "token=$TOKEN"; ps -eww -o args > ps.txt; ls -A', {
      timeoutMs: 5000,
      env: { TOKEN: secret, QUOTED: "it's $(not run)" },
      onLine: out.onLine,
    });
    assert.equal(result.exitCode, 0);
    assert.equal(out.of('stdout')[0], `token=${secret}`);
    assert.deepEqual(
      out.of('stdout').filter((name) => name.startsWith('.sluice-env')),
      [],
      'no env file in the workspace',
    );
    const ps = await readFile(join(session.workspace, 'ps.txt'), 'utf8');
    assert.ok(ps.includes('ps -eww -o args'), 'ps saw the command lines');
    assert.ok(!ps.includes(secret), 'the secret is on no command line');
    assert.ok(!hosts.log('host1').includes(secret), 'nor in sshd’s log');
    assert.deepEqual(
      (await readdir(session.workspace)).filter((name) => name.startsWith('.sluice-env')),
      [],
    );
  });

  it('writes the environment file with mode 0600, and never through an existing file', async () => {
    const connection = await connectHost(
      { name: 'host1', address: '127.0.0.1', port: hosts.host('host1').port, user: hosts.user },
      {
        privateKey: await readFile(hosts.keyPath, 'utf8'),
        privateKeyPath: hosts.keyPath,
        knownHostsPath: hosts.knownHostsPath,
        keepaliveIntervalMs: 5000,
        keepaliveCountMax: 3,
        connectTimeoutMs: 5000,
      },
    );
    try {
      const path = join(session.workspace, '.sluice-env-test');
      await writePrivateFile(connection, path, 'export A=b\n');
      assert.equal((await stat(path)).mode & 0o777, 0o600);
      await assert.rejects(writePrivateFile(connection, path, 'export A=c\n'), isCode('TRANSFER_FAILED'));
      assert.equal(await readFile(path, 'utf8'), 'export A=b\n');
      await rm(path);
    } finally {
      connection.close();
    }
  });

  it("with leftovers kept, a background process that holds the command's output outlives the connection, and what it prints after the command went to no log", async () => {
    const host2 = hosts.host('host2');
    await eventually(
      () => hosts.connectionPids('host2'),
      (pids) => pids.length === 0,
    );
    const own = new SshExecutor(options);
    const other = await own.open(host2);
    const marker = uniqueSleep();
    const ticks = join(host2.root, `ticks-${marker}`);
    const out = recorder();
    // No redirection: the loop writes into the command's stdout after the command, the session and the connection are
    // gone.
    const daemon = `while :; do echo tick; echo tick >> ${quoteArg(ticks)}; sleep 0.1; done`;
    const result = await other.run(`nohup bash -c ${quoteArg(daemon)} ${marker} & echo started`, {
      timeoutMs: 10_000,
      leftovers: 'keep',
      onLine: out.onLine,
    });
    try {
      assert.deepEqual(result, { exitCode: 0, timedOut: false, aborted: false });
      // A tick the daemon printed before the command exited is the command's output; nothing after it is.
      assert.deepEqual(
        out.of('stdout').filter((line) => line !== 'tick'),
        ['started'],
      );
      const relayed = out.of('stdout').length;
      await other.close();
      assert.deepEqual(
        await eventually(
          () => hosts.connectionPids('host2'),
          (pids) => pids.length === 0,
        ),
        [],
        'the connection closed',
      );
      const count = async () => (await readFile(ticks, 'utf8').catch(() => '')).split('\n').length;
      const before = await count();
      assert.ok(
        (await eventually(count, (n) => n >= before + 5)) >= before + 5,
        'it still writes, its stdout included',
      );
      assert.equal((await processesMatching(marker)).length, 1);
      assert.equal(out.of('stdout').length, relayed, 'what it printed after the command ended went to no log');
    } finally {
      for (const pid of await processesMatching(marker)) process.kill(pid, 'SIGKILL');
    }
  });

  it("stops every command at the operator's limit, whatever its caller asks, and says that limit ended it", async () => {
    const capped = new SshExecutor({ ...options, maxCommandMs: 300 });
    const other = await capped.open(hosts.host('host1'));
    try {
      const marker = uniqueSleep();
      const result = await other.run(`sleep ${marker}`, { timeoutMs: 60_000, leftovers: 'keep' });
      assert.deepEqual(result, { exitCode: null, timedOut: true, aborted: false, limitMs: 300 });
      assert.deepEqual(await processesMatching(marker), []);
      assert.deepEqual(
        await other.run(`sleep ${uniqueSleep()}`, { timeoutMs: 100 }),
        { exitCode: null, timedOut: true, aborted: false },
        'a shorter limit of its own is its own',
      );
      assert.deepEqual(await other.run('true', { timeoutMs: 60_000 }), {
        exitCode: 0,
        timedOut: false,
        aborted: false,
      });
    } finally {
      await other.close();
    }
  });

  it('shares one connection among the sessions on a host and closes it with the last one', async () => {
    const host2 = hosts.host('host2');
    await eventually(
      () => hosts.connectionPids('host2'),
      (pids) => pids.length === 0,
    );
    const first = new SshExecutor(options);
    const a = await first.open(host2);
    const b = await first.open(host2);
    await Promise.all([a.run('true', { timeoutMs: 5000 }), b.run('true', { timeoutMs: 5000 })]);
    assert.equal((await hosts.connectionPids('host2')).length, 1, 'two sessions, one connection');

    const second = new SshExecutor(options);
    const c = await second.open(host2);
    assert.equal((await hosts.connectionPids('host2')).length, 2, 'another execution connects on its own');

    await a.close();
    assert.equal((await hosts.connectionPids('host2')).length, 2, 'still in use by the other session');
    await b.close();
    await c.close();
    assert.deepEqual(
      await eventually(
        () => hosts.connectionPids('host2'),
        (pids) => pids.length === 0,
      ),
      [],
    );
  });

  it('detects a connection that stops answering within the keepalive bound, and connects anew afterwards', async () => {
    const host2 = hosts.host('host2');
    const watched = new SshExecutor({ ...options, keepaliveIntervalMs: 200, keepaliveCountMax: 3 });
    const dropped = await watched.open(host2);
    const marker = uniqueSleep();
    let stoppedAt = 0;
    let frozen: number[] = [];
    const running = dropped.run(`echo started; sleep ${marker}`, {
      timeoutMs: 30_000,
      onLine: (line) => {
        if (line !== 'started') return;
        void hosts.signalConnections('host2', 'SIGSTOP').then((pids) => {
          frozen = pids;
          stoppedAt = Date.now();
        });
      },
    });
    try {
      await assert.rejects(
        running,
        isCode(
          'HOST_UNREACHABLE',
          /lost connection to host host2 \(127\.0\.0\.1 port \d+\): no answer to keepalives .*the command may still be running there/,
        ),
      );
      const detectedAfter = Date.now() - stoppedAt;
      assert.ok(frozen.length >= 1, 'the connection was frozen');
      assert.ok(detectedAfter <= 200 * 3 + 400, `detected ${detectedAfter} ms after the host stopped answering`);
      await assert.rejects(
        dropped.run('true', { timeoutMs: 1000 }),
        isCode('HOST_UNREACHABLE', /lost connection to host host2/),
      );
      await dropped.close();

      const again = await watched.open(host2);
      const out = recorder();
      await again.run('echo back', { timeoutMs: 5000, onLine: out.onLine });
      assert.deepEqual(out.of('stdout'), ['back']);
      await again.close();
    } finally {
      // The host never heard of the loss: its command runs on until killed here.
      for (const pid of frozen) process.kill(pid, 'SIGKILL');
      for (const pid of await processesMatching(marker)) process.kill(pid, 'SIGKILL');
    }
  });

  it('refuses a host whose key is not in known_hosts before logging in', async () => {
    const host3 = hosts.host('host3');
    const knownHostsPath = join(hosts.host('host1').root, 'known_hosts_without_host3');
    await writeFile(knownHostsPath, `${hosts.knownHostsLine('host1')}\n${hosts.knownHostsLine('host2')}\n`);
    const from = hosts.log('host3').length;
    await assert.rejects(
      new SshExecutor({ ...options, knownHostsPath }).open(host3),
      isCode(
        'HOST_KEY_REJECTED',
        new RegExp(
          `refused to connect to host host3 \\(127\\.0\\.0\\.1 port ${host3.port}\\) before logging in: its host key is not in known_hosts .* SHA256:.*ssh-keyscan -p ${host3.port} 127\\.0\\.0\\.1 >> `,
        ),
      ),
    );
    const log = await hosts.waitForLog('host3', /Disconnected from .* \[preauth\]/, from);
    assert.doesNotMatch(log, AUTH_ATTEMPT);
  });

  it('accepts a host listed under a hashed name', async () => {
    const knownHostsPath = join(hosts.host('host1').root, 'known_hosts_hashed');
    await copyFile(hosts.knownHostsPath, knownHostsPath);
    await run('ssh-keygen', ['-H', '-f', knownHostsPath]);
    assert.ok(!(await readFile(knownHostsPath, 'utf8')).includes('127.0.0.1'));
    const hashed = await new SshExecutor({ ...options, knownHostsPath }).open(hosts.host('host3'));
    await hashed.close();
  });

  it('refuses a host whose key changed, before logging in', async () => {
    const host3 = hosts.host('host3');
    await hosts.regenerateHostKey('host3');
    const from = hosts.log('host3').length;
    await assert.rejects(
      new SshExecutor(options).open(host3),
      isCode(
        'HOST_KEY_REJECTED',
        new RegExp(
          `host host3 \\(127\\.0\\.0\\.1 port ${host3.port}\\) before logging in: its host key has changed.*line 3 of ${hosts.knownHostsPath}.*ssh-keyscan -p ${host3.port} 127\\.0\\.0\\.1`,
        ),
      ),
    );
    const log = await hosts.waitForLog('host3', /Disconnected from .* \[preauth\]/, from);
    assert.doesNotMatch(log, AUTH_ATTEMPT);
  });

  it('says when the host refuses the key, and when nothing listens', async () => {
    const otherKey = join(hosts.host('host1').root, 'other_key');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', otherKey]);
    await assert.rejects(
      new SshExecutor({ ...options, privateKeyPath: otherKey }).open(hosts.host('host1')),
      isCode(
        'HOST_UNREACHABLE',
        new RegExp(`could not log in to host host1 .* as ${hosts.user}: it refused the key ${otherKey}`),
      ),
    );
    const closedPort = { name: 'gone', address: '127.0.0.1', port: 1 };
    await assert.rejects(
      executor.open(closedPort),
      isCode('HOST_UNREACHABLE', /cannot reach host gone \(127\.0\.0\.1 port 1\): connection refused/),
    );
  });

  it('gives up on a host that accepts TCP but never speaks SSH: at the connect timeout, or when aborted', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    try {
      const mute = { name: 'mute', address: '127.0.0.1', port };
      let started = Date.now();
      await assert.rejects(
        new SshExecutor({ ...options, connectTimeoutMs: 300 }).open(mute),
        isCode('HOST_UNREACHABLE', /cannot reach host mute .*: no SSH handshake within 300ms/),
      );
      assert.ok(Date.now() - started < 2000);
      started = Date.now();
      await assert.rejects(executor.open(mute, { signal: AbortSignal.timeout(200) }), { name: 'TimeoutError' });
      assert.ok(Date.now() - started < 2000);
    } finally {
      silent.close();
    }
  });

  it('refuses host local', async () => {
    await assert.rejects(executor.open({ name: 'local', address: 'local' }), isCode('HOST_UNREACHABLE'));
  });
});
