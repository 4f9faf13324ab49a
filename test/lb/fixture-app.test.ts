import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { it } from 'node:test';
import { freeLoopbackPort } from '../helpers/free-port.ts';
import { makeLocalAppHost } from './local-app-host.ts';

const get = async (port: number, path: string) => {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) });
  return { status: response.status, body: (await response.text()).trim() };
};

it('start.sh starts the app detached, stop.sh stops it and closes the port, twice is fine', async (t) => {
  const host = makeLocalAppHost({ name: 'host1', port: await freeLoopbackPort() });
  t.after(() => host.remove());
  const pidFile = join(host.root, 'shared', 'app.pid');

  await host.start();
  const pid = readFileSync(pidFile, 'utf8').trim();
  assert.deepEqual(await get(host.port, '/'), { status: 200, body: `v1 host1 ${pid}` });
  assert.deepEqual(await get(host.port, '/health'), { status: 200, body: 'ok' });

  await host.stop();
  assert.equal(existsSync(pidFile), false);
  await assert.rejects(get(host.port, '/health'));
  await host.stop();
});

it('stop.sh lets a request in flight finish', async (t) => {
  const host = makeLocalAppHost({ name: 'host1', port: await freeLoopbackPort() });
  t.after(() => host.remove());
  await host.start();

  const slow = get(host.port, '/slow?ms=500');
  await new Promise((resolve) => setTimeout(resolve, 100));
  await host.stop();
  assert.match((await slow).body, /^v1 host1 \d+$/);
});

it('start.sh fails, with the app’s log, when the app cannot listen', async (t) => {
  const port = await freeLoopbackPort();
  const squatter = createServer().listen(port, '127.0.0.1');
  t.after(() => squatter.close());
  const host = makeLocalAppHost({ name: 'host1', port });
  t.after(() => host.remove());

  await assert.rejects(host.start(), /exited while starting[\s\S]*EADDRINUSE/);
  assert.equal(existsSync(join(host.root, 'shared', 'app.pid')), false);
});
