/**
 * What one SSH step costs, Sluice's executor beside the OpenSSH client with
 * a ControlMaster connection, on real sshd hosts on loopback: a command
 * (`true`, with and without variables), and uploading a file of random bytes
 * to one host and to N hosts at once (Sluice's upload with the OpenSSH client,
 * ssh2's SFTP with each cipher, OpenSSH's scp through the master).
 *
 *   node bench/ssh-costs.ts [--hosts 8] [--commands 20] [--payload-mib 50]
 *     [--ciphers openssh,default,chacha20-poly1305@openssh.com,aes128-ctr] [--json out.json]
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { SshExecutor } from '../src/ssh/ssh-executor.ts';
import type { ExecSession } from '../src/executor/executor.ts';
import { startSshHosts } from '../test/helpers/ssh-hosts.ts';
import { median } from './rollout/report.ts';

const run = promisify(execFile);
const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '8' },
    commands: { type: 'string', default: '20' },
    'payload-mib': { type: 'string', default: '50' },
    ciphers: { type: 'string', default: 'openssh,default,chacha20-poly1305@openssh.com,aes128-ctr' },
    json: { type: 'string' },
  },
});
const hostCount = Number(values.hosts);
const commands = Number(values.commands);
const payloadMiB = Number(values['payload-mib']);
if (!(hostCount >= 1 && commands >= 1 && payloadMiB > 0)) {
  console.error('usage: node bench/ssh-costs.ts [--hosts 8] [--commands 20] [--payload-mib 50] [--json out.json]');
  process.exit(2);
}

const hosts = await startSshHosts(hostCount);
const scratch = mkdtempSync(join(tmpdir(), 'sluice-ssh-costs-'));
const control = mkdtempSync(join(tmpdir(), 'cm-'));
const payload = join(scratch, 'payload.bin');
writeFileSync(payload, randomBytes(payloadMiB * 1024 * 1024));
const results: Record<string, number> = {};
const sshOpts = (port: number) => [
  ...['-i', hosts.keyPath, '-o', `UserKnownHostsFile=${hosts.knownHostsPath}`, '-o', 'StrictHostKeyChecking=yes'],
  ...['-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR', '-o', 'ControlMaster=auto'],
  ...['-o', `ControlPath=${control}/%C`, '-o', 'ControlPersist=60', '-p', String(port)],
];
const target = `${hosts.user}@127.0.0.1`;

async function timed(label: string, times: number, once: () => Promise<unknown>): Promise<void> {
  const ms: number[] = [];
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    await once();
    ms.push(performance.now() - started);
  }
  results[label] = median(ms);
  console.error(`${label.padEnd(58)} ${median(ms).toFixed(1)} ms (median of ${times})`);
}

try {
  const first = hosts.hosts[0]!;
  const executor = (cipher: string) =>
    new SshExecutor({
      user: hosts.user,
      privateKeyPath: hosts.keyPath,
      knownHostsPath: hosts.knownHostsPath,
      baseDir: join(hosts.deployRoot, 'ws'),
      ...(cipher === 'openssh' ? {} : { uploads: 'sftp' as const }),
      ...(cipher !== 'default' && cipher !== 'openssh' && { ciphers: [cipher] }),
    });
  const env = { SLUICE_ENVIRONMENT: 'production', SLUICE_DEPLOY_PATH: '/srv/app', SLUICE_RELEASE: 'r1' };

  await run('ssh', [...sshOpts(first.port), target, 'true']);
  await timed('OpenSSH, ControlMaster: ssh host true', commands, () =>
    run('ssh', [...sshOpts(first.port), target, 'true']),
  );
  const session = await executor('default').open(first);
  await timed('Sluice: session.run("true")', commands, () => session.run('true', { timeoutMs: 10_000 }));
  await timed('Sluice: session.run("true") with 3 variables', commands, () =>
    session.run('true', { timeoutMs: 10_000, env }),
  );
  await timed('Sluice: session.run("true"), leftovers keep, 3 variables', commands, () =>
    session.run('true', { timeoutMs: 10_000, env, leftovers: 'keep' }),
  );
  await session.close();

  await timed('OpenSSH, ControlMaster: scp to 1 host', 3, () =>
    run('scp', [
      '-q',
      ...sshOpts(first.port).map((o) => (o === '-p' ? '-P' : o)),
      payload,
      `${target}:${hosts.deployRoot}/p`,
    ]),
  );
  await timed(`OpenSSH, ControlMaster: scp to ${hostCount} hosts at once`, 3, () =>
    Promise.all(
      hosts.hosts.map((h) =>
        run('ssh', [...sshOpts(h.port), target, 'true']).then(() =>
          run('scp', [
            '-q',
            ...sshOpts(h.port).map((o) => (o === '-p' ? '-P' : o)),
            payload,
            `${target}:${hosts.deployRoot}/p`,
          ]),
        ),
      ),
    ),
  );
  for (const cipher of values.ciphers.split(',')) {
    const sessions: ExecSession[] = await Promise.all(hosts.hosts.map((h) => executor(cipher).open(h)));
    try {
      await timed(
        `Sluice (${cipher === 'openssh' ? 'OpenSSH client' : `ssh2 SFTP, ${cipher}`}): upload to 1 host`,
        3,
        () => sessions[0]!.upload(payload, `${hosts.deployRoot}/p`),
      );
      await timed(
        `Sluice (${cipher === 'openssh' ? 'OpenSSH client' : `ssh2 SFTP, ${cipher}`}): upload to ${hostCount} hosts at once`,
        3,
        () => Promise.all(sessions.map((s) => s.upload(payload, `${hosts.deployRoot}/p`))),
      );
    } finally {
      await Promise.all(sessions.map((s) => s.close()));
    }
  }
} finally {
  for (const h of hosts.hosts) await run('ssh', [...sshOpts(h.port), '-O', 'exit', target]).catch(() => {});
  await hosts.stop();
  rmSync(scratch, { recursive: true, force: true });
  rmSync(control, { recursive: true, force: true });
}
if (values.json) writeFileSync(values.json, `${JSON.stringify(results, null, 2)}\n`);
