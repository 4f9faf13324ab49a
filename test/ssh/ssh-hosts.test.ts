import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { describe, it } from 'node:test';
import { SshExecutor } from '../../src/ssh/ssh-executor.ts';
import { startSshHosts } from '../helpers/ssh-hosts.ts';

/** Running, that is: not gone and not a zombie waiting for init to reap it. */
async function alive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  return stat !== '' && state !== 'Z' && state !== 'X';
}

function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

describe('the sshd test harness', () => {
  it('starts hosts with their own ports, keys and roots, and its stop leaves nothing behind', async () => {
    const hosts = await startSshHosts(2);
    try {
      const [host1, host2] = hosts.hosts;
      assert.ok(host1 && host2);
      assert.notEqual(host1.port, host2.port);
      assert.notEqual(host1.root, host2.root);
      assert.notEqual(hosts.knownHostsLine('host1').split(' ')[2], hosts.knownHostsLine('host2').split(' ')[2]);
      assert.match(hosts.knownHostsLine('host1'), new RegExp(`^\\[127\\.0\\.0\\.1\\]:${host1.port} ssh-ed25519 AAAA`));

      // A logged-in connection with a command running: sshd children and grandchildren.
      const executor = new SshExecutor({
        user: hosts.user,
        privateKeyPath: hosts.keyPath,
        knownHostsPath: hosts.knownHostsPath,
        baseDir: host1.root,
      });
      const session = await executor.open(host1);
      let started!: () => void;
      const isStarted = new Promise<void>((resolve) => (started = resolve));
      const running = session
        .run('echo started; sleep 300', { timeoutMs: 60_000, onLine: started })
        .catch((error: unknown) => error);
      await isStarted;
      const pids = await hosts.processIds();
      assert.ok(pids.length >= 5, `listeners, connection processes and the command: ${pids.join(' ')}`);

      await hosts.stop();
      await hosts.stop();
      const left = [];
      for (const pid of pids) if (await alive(pid)) left.push(pid);
      assert.deepEqual(left, [], 'no sshd and nothing it started is left');
      assert.ok(await refusesConnections(host1.port));
      assert.ok(await refusesConnections(host2.port));
      await assert.rejects(stat(dirname(hosts.keyPath)), 'the temp directory is gone');
      assert.ok((await running) instanceof Error, 'the command lost its host');
      await session.close();
    } finally {
      await hosts.stop();
    }
  });

  it('changes a host key on the same port', async () => {
    const hosts = await startSshHosts(1);
    try {
      const before = hosts.knownHostsLine('host1');
      const after = await hosts.regenerateHostKey('host1');
      assert.notEqual(after, before);
      assert.equal(after.split(' ')[0], before.split(' ')[0]);
      assert.equal(hosts.knownHostsLine('host1'), after);
    } finally {
      await hosts.stop();
    }
  });
});
