import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createHostKeyPolicy } from '../../src/ssh/host-key-policy.ts';
import { checkHostKey, fingerprintOf, knownKeyTypes, parseKnownHosts } from '../../src/ssh/known-hosts.ts';

const run = promisify(execFile);

/** A real public key made by ssh-keygen: [type, base64]. */
async function makeKey(dir: string, name: string, type: 'ed25519' | 'ecdsa'): Promise<[string, string]> {
  await run('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', join(dir, name)]);
  const [keyType, base64] = (await readFile(join(dir, `${name}.pub`), 'utf8')).split(' ');
  return [keyType as string, base64 as string];
}

describe('known_hosts', () => {
  let dir: string;
  let ed: [string, string];
  let other: [string, string];
  let ecdsa: [string, string];
  const blob = (key: [string, string]) => Buffer.from(key[1], 'base64');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-known-hosts-'));
    ed = await makeKey(dir, 'ed', 'ed25519');
    other = await makeKey(dir, 'other', 'ed25519');
    ecdsa = await makeKey(dir, 'ecdsa', 'ecdsa');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('trusts a key listed for the host, by plain name on port 22 and by [host]:port elsewhere', () => {
    const entries = parseKnownHosts(
      `# comment\n\nweb1.internal,10.0.1.11 ${ed.join(' ')} root@web1\n[10.0.1.12]:2222 ${other.join(' ')}\n`,
    );
    assert.deepEqual(checkHostKey(entries, '10.0.1.11', 22, blob(ed)), { kind: 'trusted' });
    assert.deepEqual(checkHostKey(entries, 'WEB1.internal', 22, blob(ed)), { kind: 'trusted' });
    assert.deepEqual(checkHostKey(entries, '10.0.1.12', 2222, blob(other)), { kind: 'trusted' });
    // The same address on another port is another host.
    assert.deepEqual(checkHostKey(entries, '10.0.1.11', 2222, blob(ed)), { kind: 'unknown' });
    assert.deepEqual(checkHostKey(entries, '10.0.1.12', 22, blob(other)), { kind: 'unknown' });
  });

  it('reports a known host presenting another key as changed, with the lines holding its keys', () => {
    const entries = parseKnownHosts(`[10.0.1.12]:2222 ${ed.join(' ')}\n[10.0.1.12]:2222 ${ecdsa.join(' ')}\n`);
    assert.deepEqual(checkHostKey(entries, '10.0.1.12', 2222, blob(other)), { kind: 'changed', lines: [1, 2] });
  });

  it('matches hashed names exactly as ssh-keygen -H writes them', async () => {
    const file = join(dir, 'hashed');
    await writeFile(file, `[127.0.0.1]:2200 ${ed.join(' ')}\nbuild1.internal ${other.join(' ')}\n`);
    await run('ssh-keygen', ['-H', '-f', file]);
    const text = await readFile(file, 'utf8');
    assert.ok(!text.includes('127.0.0.1') && text.startsWith('|1|'), 'ssh-keygen hashed the names');
    const entries = parseKnownHosts(text);
    assert.deepEqual(checkHostKey(entries, '127.0.0.1', 2200, blob(ed)), { kind: 'trusted' });
    assert.deepEqual(checkHostKey(entries, 'build1.internal', 22, blob(other)), { kind: 'trusted' });
    assert.deepEqual(checkHostKey(entries, '127.0.0.1', 2201, blob(ed)), { kind: 'unknown' });
  });

  it('applies wildcards and negation as OpenSSH does', () => {
    const entries = parseKnownHosts(`*.internal,!db?.internal ${ed.join(' ')}\n`);
    assert.deepEqual(checkHostKey(entries, 'web7.internal', 22, blob(ed)), { kind: 'trusted' });
    assert.deepEqual(checkHostKey(entries, 'db1.internal', 22, blob(ed)), { kind: 'unknown' });
    assert.deepEqual(checkHostKey(entries, 'web7.internalx', 22, blob(ed)), { kind: 'unknown' });
  });

  it('refuses a revoked key even when another line trusts it, and skips @cert-authority lines', () => {
    const entries = parseKnownHosts(
      `@revoked * ${ed.join(' ')}\nweb1 ${ed.join(' ')}\n@cert-authority * ${other.join(' ')}\n`,
    );
    assert.deepEqual(checkHostKey(entries, 'web1', 22, blob(ed)), { kind: 'revoked', line: 1 });
    assert.deepEqual(checkHostKey(entries, 'web2', 22, blob(other)), { kind: 'unknown' });
  });

  it('ignores a line whose key blob is of another type than it claims', () => {
    const entries = parseKnownHosts(`web1 ssh-rsa ${ed[1]}\n`);
    assert.deepEqual(entries, []);
  });

  it('names the key types known for a host, so the handshake asks for those first', () => {
    const entries = parseKnownHosts(`web1 ${ecdsa.join(' ')}\nweb1 ${ed.join(' ')}\nweb2 ${ed.join(' ')}\n`);
    assert.deepEqual(knownKeyTypes(entries, 'web1', 22), ['ecdsa-sha2-nistp256', 'ssh-ed25519']);
    const policy = createHostKeyPolicy(entries, '/etc/sluice/known_hosts', { name: 'web1', address: 'web1', port: 22 });
    assert.deepEqual(policy.algorithms.prepend, ['ecdsa-sha2-nistp256', 'ssh-ed25519']);
  });

  it('prints fingerprints as ssh-keygen -l does', async () => {
    const { stdout } = await run('ssh-keygen', ['-l', '-f', join(dir, 'ed.pub')]);
    assert.equal(stdout.split(' ')[1], fingerprintOf(blob(ed)));
  });

  it('explains a refusal with the fingerprint and the command that adds the key', () => {
    const policy = createHostKeyPolicy([], '/etc/sluice/known hosts', {
      name: 'web1',
      address: '10.0.1.11',
      port: 2222,
    });
    assert.equal(policy.verify(blob(ed)), false);
    assert.equal(policy.rejection?.code, 'HOST_KEY_REJECTED');
    const message = policy.rejection?.message ?? '';
    assert.match(message, /host web1 \(10\.0\.1\.11 port 2222\)/);
    assert.match(message, /not in known_hosts/);
    assert.ok(message.includes(fingerprintOf(blob(ed))));
    assert.ok(message.includes(`ssh-keyscan -p 2222 10.0.1.11 >> '/etc/sluice/known hosts'`));
  });
});
