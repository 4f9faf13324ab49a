/**
 * Hosts as they are found in the field, over SSH with HAProxy. The
 * connection to a host drops while its new release starts (the sshd serving
 * it is killed; sshd itself stays up): the rollback connects to the host
 * again and puts the previous release back, UP, instead of leaving the host
 * drained with its app stopped. A `current` that points at a release removed
 * by hand, or that is a directory of its own, stops a deploy before it
 * drains anything.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fixturePipeline, startAppBed, type AppBed } from '../helpers/app-bed.ts';
import { runSluice, startSluice, waitForOutput } from '../helpers/run-sluice.ts';

let bed: AppBed;
before(async () => {
  bed = await startAppBed();
});
after(async () => {
  try {
    // The hung hook is its own process group.
    process.kill(-Number(readFileSync(join(bed.shared(), 'hook.pid'), 'utf8')), 'SIGKILL');
  } catch {
    // not running
  }
  await bed?.stop();
});

function commit(version: string, start: string): string[] {
  bed.checkout.write('VERSION', `${version}\n`);
  bed.checkout.write('.github/sluice.yml', fixturePipeline({ start }));
  bed.checkout.commit(version);
  return bed.runArgs();
}

async function throughLoadBalancer(): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${bed.lb.port}/`);
  assert.equal(response.status, 200);
  return (await response.text()).split(' ')[0]!;
}

test('the connection drops during the start hook: the rollback connects again and the previous release serves, UP', async () => {
  const good = await runSluice(commit('v1', 'sh deploy/start.sh'), { cwd: bed.checkout.dir, timeoutMs: 120_000 });
  assert.equal(good.code, 0, good.stdout + good.stderr);
  await bed.lb.waitUntilUp('host1');
  const srv = join(bed.ssh.hosts[0]!.root, 'srv');
  const v1 = readlinkSync(join(srv, 'current')).split('/').at(-1)!;

  // A start hook that hangs; the test drops the connection while it runs.
  const child = startSluice(
    commit('v2', 'echo $$ > "$SLUICE_DEPLOY_PATH/shared/hook.pid"; echo v2-start-hangs; exec sleep 600'),
    { cwd: bed.checkout.dir },
  );
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  await waitForOutput(child, /v2-start-hangs/, 90_000);
  assert.ok((await bed.ssh.signalConnections('host1', 'SIGKILL')).length > 0);

  assert.equal(await exited, 1, stdout);
  assert.match(stdout, /\[host1\] lost connection to .*; connecting again to roll it back/);
  assert.match(stdout, new RegExp(`rolled back host1 to ${v1}`));
  assert.doesNotMatch(stdout, /not rolled back/);
  assert.equal(readlinkSync(join(srv, 'current')), `releases/${v1}`);
  await bed.lb.waitUntilUp('host1');
  assert.equal((await bed.lb.serverStat('host1')).status, 'UP');
  assert.equal(await throughLoadBalancer(), 'v1');
});

test('current points at a release removed by hand: the deploy is refused before any host is drained, and says what to fix', async () => {
  await bed.lb.waitUntilUp('host1');
  const srv = join(bed.ssh.hosts[0]!.root, 'srv');
  const running = readlinkSync(join(srv, 'current')).split('/').at(-1)!;
  rmSync(join(srv, 'releases', running), { recursive: true, force: true });

  const refused = await runSluice(commit('v3', 'sh deploy/start.sh'), { cwd: bed.checkout.dir, timeoutMs: 120_000 });
  assert.equal(refused.code, 1, refused.stdout + refused.stderr);
  assert.match(refused.stdout, new RegExp(`host1: current points at releases/${running}, which is not on the host`));
  assert.match(refused.stdout, /point current at a release that is there, then deploy again/);
  assert.doesNotMatch(refused.stdout, /drained from the load balancer/);
  assert.equal((await bed.lb.serverStat('host1')).status, 'UP');
  assert.equal(await throughLoadBalancer(), 'v1');
});

test('current is a directory, not a link: the deploy is refused before any host is drained, and says what to fix', async () => {
  const srv = join(bed.ssh.hosts[0]!.root, 'srv');
  rmSync(join(srv, 'current'), { force: true });
  mkdirSync(join(srv, 'current'));
  writeFileSync(join(srv, 'current', 'VERSION'), 'deployed by hand\n');

  const refused = await runSluice(commit('v4', 'sh deploy/start.sh'), { cwd: bed.checkout.dir, timeoutMs: 120_000 });
  assert.equal(refused.code, 1, refused.stdout + refused.stderr);
  assert.match(
    refused.stdout,
    /host1: .*\/srv\/current is not a link to a release \(a directory or file put there by hand\?\), so no deploy can switch it; no host was taken out of service: move it away, then deploy again/,
  );
  assert.doesNotMatch(refused.stdout, /drained from the load balancer/);
  assert.equal((await bed.lb.serverStat('host1')).status, 'UP');
  assert.equal(await throughLoadBalancer(), 'v1');
});
