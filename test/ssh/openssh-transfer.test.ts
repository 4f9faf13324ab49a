import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hasOpenSshClient, uploadWithOpenSsh, type OpenSshTarget } from '../../src/ssh/openssh-transfer.ts';
import { startSshHosts, type SshHosts } from '../helpers/ssh-hosts.ts';

describe('uploads with the OpenSSH client', () => {
  let hosts: SshHosts;
  let scratch: string;
  let target: OpenSshTarget;
  const never = () => () => {};

  before(async () => {
    assert.ok(await hasOpenSshClient(), 'the OpenSSH client (ssh) must be installed for these tests');
    hosts = await startSshHosts(2);
    scratch = await mkdtemp(join(tmpdir(), 'sluice-openssh-'));
    target = {
      address: '127.0.0.1',
      port: hosts.host('host1').port,
      user: hosts.user,
      privateKeyPath: hosts.keyPath,
      knownHostsPath: hosts.knownHostsPath,
      connectTimeoutMs: 10_000,
      keepaliveIntervalMs: 5000,
      keepaliveCountMax: 3,
    };
  });
  after(async () => {
    await hosts?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('puts the bytes on the host as they are, under a path the shell would otherwise read', async () => {
    const local = join(scratch, 'artifact.tar.gz');
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    await writeFile(local, bytes);
    const remote = join(hosts.host('host1').root, "it's $(touch pwned) a file");
    await uploadWithOpenSsh(target, local, remote, never);
    assert.ok((await readFile(remote)).equals(bytes));
    await assert.rejects(readFile(join(hosts.host('host1').root, 'pwned')), { code: 'ENOENT' });
  });

  it('refuses a host whose key is not the one in known_hosts, before anything is written', async () => {
    // host1's port with host2's key: what a host that changed its key (or an impostor) looks like.
    const wrong = join(scratch, 'known_hosts_wrong');
    const [, ...key] = hosts.knownHostsLine('host2').split(' ');
    await writeFile(wrong, `[127.0.0.1]:${hosts.host('host1').port} ${key.join(' ')}\n`);
    const local = join(scratch, 'small');
    await writeFile(local, 'bytes');
    const remote = join(hosts.host('host1').root, 'never-written');
    await assert.rejects(
      uploadWithOpenSsh({ ...target, knownHostsPath: wrong }, local, remote, never),
      /ssh exited with code 255: .*Host key verification failed/,
    );
    await assert.rejects(readFile(remote), { code: 'ENOENT' });
  });

  it('refuses a host known_hosts does not list at all', async () => {
    const empty = join(scratch, 'known_hosts_empty');
    await writeFile(empty, '');
    const local = join(scratch, 'small');
    await writeFile(local, 'bytes');
    await assert.rejects(
      uploadWithOpenSsh({ ...target, knownHostsPath: empty }, local, join(hosts.host('host1').root, 'nope'), never),
      /Host key verification failed/,
    );
  });
});
