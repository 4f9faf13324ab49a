/**
 * A fleet larger than the operator's limits: 12 real sshd hosts, a batch of
 * 50% (6 hosts), `ssh.max_sessions: 3` and `ssh.max_uploads: 2`. Counted on
 * the hosts' side, from the one log every host's sshd, SFTP server and `cat`
 * append to in the order things happened: never more than 3 hosts connected
 * to or 2 uploads open at once, and so never more than 5 connections (an
 * upload with the OpenSSH client has one of its own, made while its host
 * holds its session; without an ssh client, over SFTP, 3); and the rollout
 * finishes with every host on the new release.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { hasOpenSshClient } from '../../src/ssh/openssh-transfer.ts';
import { appAnswer, killApp, writeAppEnvs } from '../helpers/app-bed.ts';
import { pipelineFixture } from '../helpers/pipeline-fixture.ts';
import { runSluice } from '../helpers/run-sluice.ts';
import { concurrencyInLog, productionOnHosts, startSshHosts, type SshHosts } from '../helpers/ssh-hosts.ts';
import { makeCheckout, type TempCheckout } from '../helpers/temp-checkout.ts';

const fixtureApp = fileURLToPath(new URL('../fixtures/app/', import.meta.url));
const HOSTS = 12;

// A payload of 8 MiB, so uploads last long enough to overlap if nothing held them back.
const pipeline = pipelineFixture('app-to-production', (p) => {
  const build = p.stages[0]!.actions[0]!.build!;
  build.artifact!.paths = [...build.artifact!.paths, 'payload.bin'];
});

let logDir: string;
let sharedLog: string;
let ssh: SshHosts;
let checkout: TempCheckout;
let ports: Record<string, number> = {};

before(async () => {
  logDir = mkdtempSync(join(tmpdir(), 'sluice-fleet-log-'));
  sharedLog = join(logDir, 'hosts.log');
  ssh = await startSshHosts(HOSTS, { sharedLog });
  checkout = makeCheckout({ 'README.md': 'The fixture app, deployed by Sluice.\n' });
  cpSync(fixtureApp, checkout.dir, { recursive: true });
  checkout.write('.github/sluice.yml', pipeline);
  writeFileSync(join(checkout.dir, 'payload.bin'), randomBytes(8 * 1024 * 1024));
  ports = await writeAppEnvs(ssh);
});

after(async () => {
  for (const host of ssh?.hosts ?? []) killApp(join(host.root, 'srv', 'shared', 'app.pid'));
  await ssh?.stop();
  checkout?.remove();
  if (logDir) rmSync(logDir, { recursive: true, force: true });
});

function serverConfig(): string {
  return productionOnHosts(ssh, { ssh: 'max_sessions: 3, max_uploads: 2', rolling: 'batch: 50%, min_healthy: 1' });
}

async function rollOut(version: string) {
  checkout.write('VERSION', `${version}\n`);
  checkout.commit(version);
  writeFileSync(join(checkout.scratch, 'server.yml'), serverConfig());
  const from = readFileSync(sharedLog, 'utf8').length;
  const result = await runSluice(
    ['run', '--server', join(checkout.scratch, 'server.yml'), '--data-dir', join(checkout.scratch, 'data')],
    { cwd: checkout.dir, timeoutMs: 240_000 },
  );
  return { result, seen: concurrencyInLog(readFileSync(sharedLog, 'utf8').slice(from)) };
}

describe('a rollout to more hosts than ssh.max_sessions', () => {
  for (const [version, what] of [
    ['v1', 'a first release'],
    ['v2', 'a second release, stopping the first'],
  ] as const) {
    test(`${what} goes to 12 hosts in batches of 6, with at most 3 hosts connected to, 2 uploads and 5 connections open at once on the hosts`, async (t) => {
      const { result, seen } = await rollOut(version);
      t.diagnostic(JSON.stringify(seen));
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stdout, /batch 1 of 2: host1, host2, host3, host4, host5, host6/);
      for (const host of ssh.hosts) {
        const current = readlinkSync(join(host.root, 'srv', 'current'));
        assert.equal(readFileSync(join(host.root, 'srv', current, 'VERSION'), 'utf8'), `${version}\n`, host.name);
        assert.match(await appAnswer(ports[host.name]!), new RegExp(`^${version} `), `${host.name} serves ${version}`);
      }
      // Every host uploaded once; and the limits were reached, so the count would have seen more.
      assert.equal(seen.uploads.total, HOSTS);
      assert.equal(seen.uploads.peak, 2);
      assert.equal(seen.hosts.peak, 3);
      // A host uploads while it holds its place: the 3 hosts' sessions, and the 2 uploads'
      // connections of their own with the OpenSSH client (over SFTP, without one, none). Whether
      // all 5 are open at one moment depends on timing (a place can be between two sessions).
      const most = (await hasOpenSshClient()) ? 5 : 3;
      assert.ok(seen.connections.peak <= most, `${seen.connections.peak} connections open at once, at most ${most}`);
      assert.ok(seen.connections.peak >= 3, `${seen.connections.peak} connections open at once`);
      assert.ok(seen.connections.total >= HOSTS, `${seen.connections.total} connections`);
    });
  }
});
