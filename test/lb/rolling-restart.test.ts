import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RunningHaproxy } from '../helpers/haproxy.ts';
import { startMonitor, type MonitorReport } from '../helpers/request-monitor.ts';
import type { LocalAppHost } from './local-app-host.ts';
import { startPair } from './start-pair.ts';

// The seed's app took seconds to boot; 400 ms is longer than HAProxy needs
// to notice a stopped server (fall 3 × inter 100 ms), so each undrained
// restart has a window of 200–300 ms in which requests are still sent to it.
const startupDelayMs = 400;

type Window = { host: string; from: number; to: number };

describe('restarting both hosts one by one, v1 to v2, with a request every 20 ms', () => {
  it('loses requests on each restart without a drain (the seed’s effect)', async (t) => {
    const pair = await startPair({ startupDelayMs });
    t.after(() => pair.stop());
    const monitor = startMonitor({ url: pair.url, maxRequests: 1500, maxDurationMs: 25_000 });
    t.after(() => monitor.stop());

    const windows = await restartEach(pair.hosts, monitor.waitForMore, async (host) => {
      await host.deploy('v2');
      await pair.lb.waitUntilUp(host.name);
    });
    const report = await monitor.stop();
    const perRestart = windows.map((window) => failuresIn(report, window));
    t.diagnostic(
      `sent ${report.sent}, failed ${report.failed} (${windows.map((w, i) => `${w.host}: ${perRestart[i]}`).join(', ')})`,
    );

    for (const [i, window] of windows.entries())
      assert.ok(perRestart[i]! > 0, `no request failed while ${window.host} restarted`);
    assert.equal(
      report.failed,
      perRestart.reduce((a, b) => a + b),
      'requests failed outside the restarts',
    );
    // HAProxy's own answers, with no retry and no redispatch: 503 when the server it picked refuses
    // the connection, 502 when the server dies while answering.
    assert.ok(
      report.failures.every((failure) => failure.status === 503 || failure.status === 502),
      JSON.stringify(report.failures),
    );
  });

  it('loses none when each host is drained, restarted, seen UP and undrained, and ends on v2 everywhere', async (t) => {
    const pair = await startPair({ startupDelayMs });
    t.after(() => pair.stop());
    const monitor = startMonitor({ url: pair.url, maxRequests: 1500, maxDurationMs: 25_000 });
    t.after(() => monitor.stop());

    const windows = await restartEach(pair.hosts, monitor.waitForMore, (host) => restartDrained(pair.lb, host, 'v2'));
    const allOnV2 = windows.at(-1)!.to;
    await monitor.waitForMore(30);
    const report = await monitor.stop();
    t.diagnostic(`sent ${report.sent}, failed ${report.failed}, versions ${JSON.stringify(report.versions)}`);

    assert.deepEqual(report.failures, []);
    const after = report.timeline.filter((sample) => sample.at >= allOnV2);
    assert.ok(after.length >= 30);
    assert.deepEqual(new Set(after.map((sample) => sample.version)), new Set(['v2']));
    assert.deepEqual(new Set(after.map((sample) => sample.host)), new Set(['host1', 'host2']));
    assert.ok((report.versions.v1 ?? 0) > 0, 'v1 answered before the restarts');
  });
});

/** What the operator's drain / undrain commands and Sluice's health wait do around one host. */
async function restartDrained(lb: RunningHaproxy, host: LocalAppHost, version: string): Promise<void> {
  await lb.setState(host.name, 'drain');
  await lb.waitUntilIdle(host.name);
  await host.deploy(version);
  await lb.waitUntilUp(host.name);
  await lb.setState(host.name, 'ready');
}

/** Restarts each host in turn with traffic flowing before, between and after; returns when each restart ran. */
async function restartEach(
  hosts: LocalAppHost[],
  waitForMore: (count: number) => Promise<void>,
  restart: (host: LocalAppHost) => Promise<void>,
): Promise<Window[]> {
  const windows: Window[] = [];
  await waitForMore(10);
  for (const host of hosts) {
    const from = Date.now();
    await restart(host);
    windows.push({ host: host.name, from, to: Date.now() });
    await waitForMore(10);
  }
  return windows;
}

function failuresIn(report: MonitorReport, window: Window): number {
  return report.failures.filter((failure) => failure.at >= window.from && failure.at <= window.to).length;
}
