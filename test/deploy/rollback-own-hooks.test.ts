/**
 * A rollback starts the release it goes back to with that release's own
 * hooks: a new pipeline whose start hook is broken (a one-line `nohup … &`
 * that exits 1) is rolled back over SSH, and the previous release serves
 * again through HAProxy, its host UP.
 */
import assert from 'node:assert/strict';
import { readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fixturePipeline, startAppBed, type AppBed } from '../helpers/app-bed.ts';
import { runSluice } from '../helpers/run-sluice.ts';

let bed: AppBed;
before(async () => {
  bed = await startAppBed();
});
after(async () => {
  await bed?.stop();
});

function rollOut(version: string, start: string) {
  bed.checkout.write('VERSION', `${version}\n`);
  bed.checkout.write('.github/sluice.yml', fixturePipeline({ start }));
  bed.checkout.commit(version);
  return runSluice(bed.runArgs(), { cwd: bed.checkout.dir, timeoutMs: 120_000 });
}

async function throughLoadBalancer(): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${bed.lb.port}/`);
  assert.equal(response.status, 200);
  return (await response.text()).split(' ')[0]!;
}

test('a new release whose start hook is broken is rolled back, and the previous release starts with its own hooks and serves again, UP', async () => {
  const good = await rollOut('v1', 'sh deploy/start.sh');
  assert.equal(good.code, 0, good.stdout + good.stderr);
  await bed.lb.waitUntilUp('host1');
  const srv = join(bed.ssh.hosts[0]!.root, 'srv');
  const v1 = readlinkSync(join(srv, 'current')).split('/').at(-1)!;

  const broken = await rollOut('v2', 'nohup node no-such-server.js & exit 1');
  assert.equal(broken.code, 1, broken.stdout + broken.stderr);
  const why = broken.stdout.search(
    new RegExp(
      `host1: start hook "nohup node no-such-server\\.js & exit 1" exited with code 1; rolling back host1 to ${v1}`,
    ),
  );
  assert.ok(why >= 0, broken.stdout);
  assert.ok(why < broken.stdout.indexOf(`[host1] rolling back to ${v1}`), 'the log says why before it rolls back');
  assert.match(broken.stdout, new RegExp(`rolled back host1 to ${v1}`));
  assert.doesNotMatch(broken.stdout, /not rolled back/);

  assert.equal(readlinkSync(join(srv, 'current')), `releases/${v1}`);
  assert.equal(readdirSync(join(srv, 'releases')).length, 2);
  await bed.lb.waitUntilUp('host1');
  assert.equal((await bed.lb.serverStat('host1')).status, 'UP');
  assert.equal(await throughLoadBalancer(), 'v1');
});
