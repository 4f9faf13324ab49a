/**
 * What every rollout of the benchmark runs against: N real sshd hosts on
 * loopback behind one HAProxy, the fixture app running on each, and a git
 * checkout of that app with an incompressible payload, so its artifact is
 * as large as asked.
 */
import { randomBytes } from 'node:crypto';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { appAnswer, killApp, writeAppEnvs } from '../../test/helpers/app-bed.ts';
import { startHaproxy, type RunningHaproxy } from '../../test/helpers/haproxy.ts';
import { startSshHosts, type SshHosts } from '../../test/helpers/ssh-hosts.ts';
import { makeCheckout, type TempCheckout } from '../../test/helpers/temp-checkout.ts';

const fixtureApp = fileURLToPath(new URL('../../test/fixtures/app/', import.meta.url));

/** What goes into the artifact, for Sluice's pipeline and for the baselines' tar alike. */
export const ARTIFACT_PATHS = ['server.js', 'deploy', 'VERSION', 'package.json', 'payload.bin'];

/** Pretend boot time of the app: longer than HAProxy needs to see it DOWN (fall 3 × 100 ms). */
export const STARTUP_DELAY_MS = 400;

export interface TestBed {
  ssh: SshHosts;
  lb: RunningHaproxy;
  checkout: TempCheckout;
  /** The environment's path, the same on every host. */
  deployPath: string;
  /** The app's port on each host, by host name. */
  ports: Record<string, number>;
  stop(): Promise<void>;
}

export async function startTestBed(hostCount: number, payloadBytes: number): Promise<TestBed> {
  const ssh = await startSshHosts(hostCount);
  let ports: Record<string, number> = {};
  let lb: RunningHaproxy | undefined;
  let checkout: TempCheckout | undefined;
  const stop = async () => {
    for (const host of ssh.hosts) killApp(join(host.root, 'srv', 'shared', 'app.pid'));
    await lb?.stop();
    await ssh.stop();
    checkout?.remove();
  };
  try {
    checkout = makeCheckout({ 'README.md': 'The fixture app, rolled out by the benchmark.\n' });
    cpSync(fixtureApp, checkout.dir, { recursive: true });
    // Random bytes: gzip cannot shrink them, so the artifact is as large as the payload.
    writeFileSync(join(checkout.dir, 'payload.bin'), randomBytes(payloadBytes));
    checkout.write('VERSION', 'v0\n');
    checkout.commit('the app with its payload');
    ports = await writeAppEnvs(ssh, `STARTUP_DELAY_MS=${STARTUP_DELAY_MS}\n`);
    lb = await startHaproxy({ backends: ssh.hosts.map((h) => ({ name: h.name, port: ports[h.name]! })) });
  } catch (error) {
    await stop();
    throw error;
  }
  return { ssh, lb, checkout, deployPath: join(ssh.deployRoot, 'srv'), ports, stop };
}

/** Throws unless every host's app answers with `version` (its answer begins `<version> <host>`) after `what`. */
export async function checkServes(bed: TestBed, version: string, what: string): Promise<void> {
  for (const host of bed.ssh.hosts) {
    const answer = await appAnswer(bed.ports[host.name]!);
    if (!answer.startsWith(`${version} `))
      throw new Error(`after ${what} of ${version}, ${host.name} answers "${answer}"`);
  }
}
