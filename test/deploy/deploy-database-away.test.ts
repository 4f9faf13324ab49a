/**
 * PostgreSQL goes away while a deploy runs over SSH (`sluice run` on
 * PostgreSQL). The deploy can no longer renew its environment lock, so it
 * stops and puts its host back: UP in HAProxy, serving the release it ran.
 * Once the database is back, the execution is recorded as it ended.
 */
import assert from 'node:assert/strict';
import { readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fixturePipeline, startAppBed, type AppBed } from '../helpers/app-bed.ts';
import { runSluice, startSluice, waitForOutput } from '../helpers/run-sluice.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';

let bed: AppBed;
let postgres: TestPostgres;
before(async () => {
  postgres = await startPostgres();
  bed = await startAppBed();
});
after(async () => {
  await bed?.stop();
  await postgres?.stop();
});

function commit(version: string, validate: string): string[] {
  bed.checkout.write('VERSION', `${version}\n`);
  bed.checkout.write('.github/sluice.yml', fixturePipeline({ validate }));
  bed.checkout.commit(version);
  return bed.runArgs({ databaseUrl: postgres.url });
}

test(
  'PostgreSQL halted during a deploy: the deploy stops, its host goes back UP on the release it ran, and the execution is recorded once the database is back',
  { timeout: 300_000 },
  async () => {
    const good = await runSluice(commit('v1', 'true'), { cwd: bed.checkout.dir, timeoutMs: 120_000 });
    assert.equal(good.code, 0, good.stdout + good.stderr);
    await bed.lb.waitUntilUp('host1');
    const srv = join(bed.ssh.hosts[0]!.root, 'srv');
    const v1 = readlinkSync(join(srv, 'current')).split('/').at(-1)!;

    const child = startSluice(
      commit('v2', `echo v2 waits; while [ ! -e ${join(bed.ssh.deployRoot, 'never')} ]; do sleep 0.1; done`),
      { cwd: bed.checkout.dir },
    );
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await waitForOutput(child, /\[host1\] v2 waits/, 120_000);
    await postgres.halt();
    await waitForOutput(child, /rolled back host1|not rolled back/, 120_000);
    await bed.lb.waitUntilUp('host1');
    assert.equal((await bed.lb.serverStat('host1')).status, 'UP');
    assert.equal(readlinkSync(join(srv, 'current')), `releases/${v1}`);
    await postgres.resume();
    assert.equal(await exited, 1, output);
    assert.match(
      output,
      new RegExp(
        `lost the lock on environment "production" \\(Sluice's database failed as it renewed the lock: .*\\): .*rolled back host1 to ${v1}`,
      ),
    );
    assert.equal(await throughLoadBalancer(), 'v1');
    // Every error Sluice prints says what it was doing.
    assert.doesNotMatch(output, /Sluice error: connect ECONNREFUSED/);

    const status = await runSluice(['status', '2', '--database-url', postgres.url], { cwd: bed.checkout.dir });
    assert.equal(status.code, 0, status.stdout + status.stderr);
    assert.match(status.stdout, /production\/deploy.*failed/);
    assert.match(status.stdout, new RegExp(`rolled back host1 to ${v1}`));
  },
);

async function throughLoadBalancer(): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${bed.lb.port}/`);
  assert.equal(response.status, 200);
  return (await response.text()).split(' ')[0]!;
}
