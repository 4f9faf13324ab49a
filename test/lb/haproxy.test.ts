import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startHaproxy } from '../helpers/haproxy.ts';
import { startMonitor } from '../helpers/request-monitor.ts';
import { startPair, type Pair } from './start-pair.ts';

const run = promisify(execFile);

describe('HAProxy in front of two v1 hosts', () => {
  let pair: Pair;
  before(async () => {
    pair = await startPair();
  });
  after(async () => {
    await pair?.stop();
  });

  const monitor = (maxRequests: number) => startMonitor({ url: pair.url, maxRequests, maxDurationMs: 5000 }).finished;

  it('answers every request, from both hosts in turn', async () => {
    const report = await monitor(40);
    assert.equal(report.sent, 40);
    assert.deepEqual(report.failures, []);
    assert.deepEqual(report.versions, { v1: 40 });
    assert.ok((report.hosts.host1 ?? 0) >= 15 && (report.hosts.host2 ?? 0) >= 15, JSON.stringify(report.hosts));
  });

  it('sends nothing to a drained server, and its share again once it is ready', async () => {
    await pair.lb.setState('host1', 'drain');
    assert.equal((await pair.lb.serverStat('host1')).status, 'DRAIN');
    assert.deepEqual([await pair.lb.drained('host1'), await pair.lb.drained('host2')], [true, false]);
    const drained = await monitor(20);
    assert.deepEqual(drained.hosts, { host2: 20 });

    await pair.lb.setState('app/host1', 'ready');
    assert.equal((await pair.lb.serverStat('host1')).status, 'UP');
    assert.equal(await pair.lb.drained('host1'), false);
    const ready = await monitor(20);
    assert.equal(ready.failed, 0);
    assert.ok((ready.hosts.host1 ?? 0) >= 5, JSON.stringify(ready.hosts));
  });

  it('takes the drain and undrain commands of the server config as written', async () => {
    // The environment's drain / undrain of the example server config
    // (test/fixtures/config/product-server.yml), with {host} filled in.
    const operator = (state: string) =>
      `echo 'set server app/{host} state ${state}' | socat stdio ${pair.lb.socketPath}`.replace('{host}', 'host2');
    await run('sh', ['-c', operator('drain')], { timeout: 5000 });
    assert.equal((await pair.lb.serverStat('host2')).status, 'DRAIN');
    await run('sh', ['-c', operator('ready')], { timeout: 5000 });
    assert.equal((await pair.lb.serverStat('host2')).status, 'UP');
  });

  it('refuses a state change for a server it does not have, with its reason', async () => {
    await assert.rejects(pair.lb.setState('host9', 'drain'), /app\/host9 state drain: No such server/);
  });
});

it('says how to install HAProxy when it is missing', async () => {
  await assert.rejects(startHaproxy({ backends: [], binary: '/nonexistent/haproxy' }), /apt-get install haproxy/);
});

it('starts with a PATH that leaves out /usr/sbin, as a user’s or a fresh shell’s does', async (t) => {
  const path = process.env.PATH;
  process.env.PATH = '/usr/bin:/bin';
  t.after(() => (process.env.PATH = path));
  const lb = await startHaproxy({ backends: [] });
  t.after(() => lb.stop());
  assert.match(await lb.command('show info'), /Name: HAProxy/);
});
