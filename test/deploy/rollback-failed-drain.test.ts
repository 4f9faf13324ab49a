/**
 * A drain that does not finish in time (a client holds a slow request past
 * the load balancer's `timeout`) fails the deploy before the running app is
 * stopped. The host is put back in service as it was, UP and serving the
 * release it ran, instead of being left draining in HAProxy.
 */
import assert from 'node:assert/strict';
import { readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fixturePipeline, startAppBed, type AppBed } from '../helpers/app-bed.ts';
import { runSluice } from '../helpers/run-sluice.ts';

let bed: AppBed;
before(async () => {
  bed = await startAppBed({ haproxy: { requestTimeoutMs: 120_000 } });
});
after(async () => {
  await bed?.stop();
});

function rollOut(version: string) {
  bed.checkout.write('VERSION', `${version}\n`);
  bed.checkout.write('.github/sluice.yml', fixturePipeline());
  bed.checkout.commit(version);
  return runSluice(bed.runArgs({ drainTimeout: '1s' }), { cwd: bed.checkout.dir, timeoutMs: 120_000 });
}

async function inFlight(): Promise<void> {
  while ((await bed.lb.serverStat('host1')).currentSessions === 0)
    await new Promise((resolve) => setImmediate(resolve));
}

test('a drain that runs out of time puts the host back in service on the release it still runs, UP', async () => {
  const good = await rollOut('v1');
  assert.equal(good.code, 0, good.stdout + good.stderr);
  await bed.lb.waitUntilUp('host1');
  const srv = join(bed.ssh.hosts[0]!.root, 'srv');
  const v1 = readlinkSync(join(srv, 'current')).split('/').at(-1)!;

  // Held past the whole deploy; let go once the host is checked.
  const client = new AbortController();
  const slow = fetch(`http://127.0.0.1:${bed.lb.port}/slow?ms=60000`, { signal: client.signal }).catch(() => undefined);
  await inFlight();
  const failed = await rollOut('v2');
  assert.equal(failed.code, 1, failed.stdout + failed.stderr);
  assert.match(failed.stdout, /host1: the drain command failed: app\/host1 still had 1 open sessions after 1s/);
  assert.match(failed.stdout, /\[host1\] back in the load balancer/);
  assert.doesNotMatch(failed.stdout, /not rolled back|\[host1\] stop: /);

  assert.equal(readlinkSync(join(srv, 'current')), `releases/${v1}`);
  assert.equal((await bed.lb.serverStat('host1')).status, 'UP');
  const response = await fetch(`http://127.0.0.1:${bed.lb.port}/`);
  assert.equal(response.status, 200);
  assert.equal((await response.text()).split(' ')[0], 'v1');
  client.abort();
  await slow;
});
