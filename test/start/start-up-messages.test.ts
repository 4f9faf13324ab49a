/**
 * What `npm start` says to an operator who got a setting wrong, or left one
 * out: each message names the setting and what to do.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MAIN } from '../helpers/sluice-process.ts';
import { waitForOutput } from '../helpers/run-sluice.ts';
import { freeLoopbackPort } from '../helpers/free-port.ts';

function start(env: Record<string, string>) {
  const cwd = mkdtempSync(join(tmpdir(), 'sluice-start-'));
  const child = spawn(process.execPath, [MAIN], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: cwd, SLUICE_DATA_DIR: join(cwd, 'data'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return {
    child,
    exited,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(cwd, { recursive: true, force: true });
    },
  };
}

function get(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    request({ host, port, path: '/' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });
}

test('a port in use stops start-up with a message that names PORT', async (t) => {
  const taken = createServer();
  await new Promise<void>((done) => taken.listen(0, () => done()));
  t.after(() => taken.close());
  const port = (taken.address() as { port: number }).port;
  const sluice = start({ PORT: String(port) });
  t.after(() => sluice.stop());
  assert.equal(await sluice.exited, 1);
  assert.match(
    sluice.output(),
    new RegExp(
      `Sluice cannot start: PORT ${port} is in use: another process listens on port ${port}\\. Stop it, or set PORT to a free port\\.`,
    ),
  );
  assert.doesNotMatch(sluice.output(), /EADDRINUSE|at .*\.ts:\d+/, 'no stack');
});

test('without SLUICE_CONFIG it says that it runs with no hosts and no environments', async (t) => {
  const sluice = start({ PORT: String(await freeLoopbackPort()) });
  t.after(() => sluice.stop());
  await waitForOutput(sluice.child, /Sluice listening on port/);
  assert.match(
    sluice.output(),
    /No server config: SLUICE_CONFIG is not set, so Sluice knows no hosts and no environments, and every deploy fails\./,
  );
});

test('HOST binds the listener to that address only', async (t) => {
  const port = await freeLoopbackPort();
  const sluice = start({ PORT: String(port), HOST: '127.0.0.1' });
  t.after(() => sluice.stop());
  await waitForOutput(sluice.child, /Sluice listening on port/);
  assert.ok((await get('127.0.0.1', port)) < 500, 'the address it was given answers');
  await assert.rejects(get('127.0.0.2', port), /ECONNREFUSED/, 'another loopback address is not listened on');
});

test('a HOST that is not an address of this machine is named', async (t) => {
  const sluice = start({ PORT: String(await freeLoopbackPort()), HOST: '192.0.2.1' });
  t.after(() => sluice.stop());
  assert.equal(await sluice.exited, 1);
  assert.match(
    sluice.output(),
    /Sluice cannot start: HOST 192\.0\.2\.1 is not an address of this machine: set HOST to one of its addresses/,
  );
});

test('a SLUICE_DATA_DIR that is a file is named, with what to do', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-data-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'not-a-directory');
  writeFileSync(file, 'x');
  const sluice = start({ PORT: String(await freeLoopbackPort()), SLUICE_DATA_DIR: file });
  t.after(() => sluice.stop());
  assert.equal(await sluice.exited, 1);
  assert.match(
    sluice.output(),
    new RegExp(
      `Sluice cannot start: The data directory ${file} cannot be used \\(EEXIST: .*\\): it must be a directory this user \\(uid \\d+\\) can write to\\. Create it or fix its owner, or choose another with SLUICE_DATA_DIR`,
    ),
  );
  assert.doesNotMatch(sluice.output(), /at .*\.ts:\d+/, 'no stack');
});
