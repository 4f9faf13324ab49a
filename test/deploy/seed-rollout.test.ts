/**
 * The seed's experiment, run by Sluice: two real SSH hosts behind HAProxy
 * serve v1 of a small app while a monitor sends a request every 20 ms
 * through the load balancer; `sluice run` rolls out the next version.
 * Drained through HAProxy's runtime API, no request fails; without a drain,
 * the monitor catches the failures; a failing health check on the second
 * host rolls the first one back.
 */
import assert from 'node:assert/strict';
import { cpSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fixturePipeline, killApp, writeAppEnvs } from '../helpers/app-bed.ts';
import { startHaproxy, type RunningHaproxy } from '../helpers/haproxy.ts';
import { startMonitor, type MonitorReport } from '../helpers/request-monitor.ts';
import { runSluice } from '../helpers/run-sluice.ts';
import { productionOnHosts, startSshHosts, type SshHosts } from '../helpers/ssh-hosts.ts';
import { makeCheckout, type TempCheckout } from '../helpers/temp-checkout.ts';

const fixtureApp = fileURLToPath(new URL('../fixtures/app/', import.meta.url));

/** The fixture pipeline, with a health check a test can fail per version (`shared/unhealthy-<version>`). */
const pipeline = fixturePipeline({
  health: `. "$SLUICE_DEPLOY_PATH/shared/app.env"; test ! -e "$SLUICE_DEPLOY_PATH/shared/unhealthy-$(cat VERSION)" && curl -fsS "http://127.0.0.1:$PORT/health"`,
  healthTimeout: '3s',
});

let ssh: SshHosts;
let lb: RunningHaproxy;
let checkout: TempCheckout;
let ports: Record<string, number> = {};

function serverConfig(drain: boolean): string {
  return productionOnHosts(ssh, { rolling: 'batch: 1, min_healthy: 1', ...(drain && { drainThrough: lb.socketPath }) });
}

before(async () => {
  ssh = await startSshHosts(2);
  checkout = makeCheckout({ 'README.md': 'The fixture app, deployed by Sluice.\n' });
  cpSync(fixtureApp, checkout.dir, { recursive: true });
  checkout.write('.github/sluice.yml', pipeline);
  checkout.write('VERSION', 'v0\n');
  checkout.commit('the app');
  // The seed's app took seconds to boot; 400 ms is longer than HAProxy needs to see it DOWN.
  ports = await writeAppEnvs(ssh, 'STARTUP_DELAY_MS=400\n');
  lb = await startHaproxy({ backends: ssh.hosts.map((h) => ({ name: h.name, port: ports[h.name]! })) });
});

after(async () => {
  for (const host of ssh?.hosts ?? []) killApp(join(host.root, 'srv', 'shared', 'app.pid'));
  await lb?.stop();
  await ssh?.stop();
  checkout?.remove();
});

/** `sluice run` for a new commit of the app, with or without a drain. */
async function rollOut(version: string, options: { drain: boolean }) {
  checkout.write('VERSION', `${version}\n`);
  checkout.commit(version);
  writeFileSync(join(checkout.scratch, 'server.yml'), serverConfig(options.drain));
  return runSluice(
    ['run', '--server', join(checkout.scratch, 'server.yml'), '--data-dir', join(checkout.scratch, 'data')],
    { cwd: checkout.dir, timeoutMs: 90_000 },
  );
}

async function monitored<T>(work: () => Promise<T>): Promise<{ result: T; report: MonitorReport; doneAt: number }> {
  const monitor = startMonitor({ url: `http://127.0.0.1:${lb.port}/`, maxRequests: 3000, maxDurationMs: 60_000 });
  await monitor.waitForMore(10);
  const result = await work();
  const doneAt = Date.now();
  await monitor.waitForMore(30);
  return { result, report: await monitor.stop(), doneAt };
}

function versionsAfter(report: MonitorReport, at: number): Set<string | undefined> {
  return new Set(report.timeline.filter((s) => s.at >= at).map((s) => s.version));
}

describe('the seed’s rolling deploy, run by Sluice over SSH behind HAProxy', () => {
  test('v1 goes out to both hosts', async () => {
    const result = await rollOut('v1', { drain: true });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    for (const host of ssh.hosts) await lb.waitUntilUp(host.name);
  });

  test('v1 → v2 with a drain: zero failed requests, and only v2 answers afterwards', async (t) => {
    const { result, report, doneAt } = await monitored(() => rollOut('v2', { drain: true }));
    t.diagnostic(`sent ${report.sent}, failed ${report.failed}, versions ${JSON.stringify(report.versions)}`);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(
      result.stdout,
      /\[host1\] drained from the load balancer[\s\S]*\[host1\] back in the load balancer[\s\S]*\[host2\] drained/,
    );
    assert.deepEqual(report.failures, []);
    assert.ok((report.versions.v1 ?? 0) > 0 && (report.versions.v2 ?? 0) > 0);
    assert.deepEqual(versionsAfter(report, doneAt), new Set(['v2']));
  });

  test('v2 → v3 without a drain: the monitor catches failed requests', async (t) => {
    const { result, report, doneAt } = await monitored(() => rollOut('v3', { drain: false }));
    t.diagnostic(`sent ${report.sent}, failed ${report.failed}`);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.ok(report.failed > 0, 'an undrained restart loses requests (HAProxy: retries 0, no redispatch)');
    assert.deepEqual(versionsAfter(report, doneAt), new Set(['v3']));
  });

  test('a health check failing on host2 rolls host1 back: all traffic stays v3, and the stage says which host and check', async (t) => {
    // v4 cannot become healthy on host2 (say, a config it does not have there).
    writeFileSync(join(ssh.host('host2').root, 'srv', 'shared', 'unhealthy-v4'), '');
    const { result, report, doneAt } = await monitored(() => rollOut('v4', { drain: true }));
    t.diagnostic(`sent ${report.sent}, failed ${report.failed}, versions ${JSON.stringify(report.versions)}`);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /host2: health check ".*" failed for 3s/);
    assert.match(result.stdout, /rolled back host2, host1 to /);
    assert.deepEqual(report.failures, []);
    assert.deepEqual(versionsAfter(report, doneAt), new Set(['v3']));
    for (const host of ssh.hosts) {
      const current = readlinkSync(join(host.root, 'srv', 'current'));
      assert.equal(readFileSync(join(host.root, 'srv', current, 'VERSION'), 'utf8'), 'v3\n', `${host.name} runs v3`);
    }
  });
});
