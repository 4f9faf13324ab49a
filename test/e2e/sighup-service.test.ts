/**
 * SIGHUP — what a terminal sends when it closes, as when the SSH session an
 * operator ran `npm start` in drops — stops the service gracefully, as
 * SIGTERM does, instead of Node's default of dying at once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { freeLoopbackPort } from '../helpers/free-port.ts';
import { startSluiceProcess, type SluiceProcess } from '../helpers/sluice-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-sighup-'));
let sluice: SluiceProcess | undefined;

after(async () => {
  await sluice?.kill();
  rmSync(dir, { recursive: true, force: true });
});

test('SIGHUP: Sluice says it stops, and exits 0', { timeout: 120_000 }, async () => {
  sluice = await startSluiceProcess({
    cwd: dir,
    port: await freeLoopbackPort(),
    env: { SLUICE_DATA_DIR: join(dir, 'data'), LOG_FORMAT: 'json' },
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    sluice!.child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  sluice.child.kill('SIGHUP');
  assert.deepEqual(await exit, { code: 0, signal: null });
  const messages = sluice
    .stdout()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => (JSON.parse(line) as { msg: string }).msg);
  assert.ok(messages.includes('SIGHUP: stopping'), messages.join('\n'));
});
