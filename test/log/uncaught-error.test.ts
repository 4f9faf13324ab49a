/**
 * An error nothing caught (a bug) still ends the service as Node ends it —
 * exit 1 — but with LOG_FORMAT=json its report is one JSON line on stdout,
 * masked, not Node's bare stack on stderr with the secret it carried.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { freeLoopbackPort } from '../helpers/free-port.ts';
import { startSluiceProcess, type SluiceProcess } from '../helpers/sluice-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-uncaught-'));
const SECRET = 'uncaught-canary-secret-0815';
let sluice: SluiceProcess | undefined;

after(async () => {
  await sluice?.kill();
  rmSync(dir, { recursive: true, force: true });
});

test('an uncaught error: a masked JSON fatal line, exit 1, and nothing on stderr', { timeout: 120_000 }, async () => {
  // The bug, loaded before Sluice: on SIGUSR2 a timer throws an error that carries a secret.
  const bug = `process.on('SIGUSR2', () => setTimeout(() => { throw new Error('boom with ' + process.env.SLUICE_TEST_CANARY); }));`;
  writeFileSync(join(dir, 'server.yml'), 'secrets:\n  API_TOKEN: { env: SLUICE_TEST_CANARY, repos: [acme/shop] }\n');
  sluice = await startSluiceProcess({
    cwd: dir,
    port: await freeLoopbackPort(),
    env: {
      SLUICE_DATA_DIR: join(dir, 'data'),
      LOG_FORMAT: 'json',
      SLUICE_CONFIG: join(dir, 'server.yml'),
      SLUICE_TEST_CANARY: SECRET,
      NODE_OPTIONS: `--import=data:text/javascript,${encodeURIComponent(bug)}`,
    },
  });
  let stderr = '';
  sluice.child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<number | null>((resolve) => sluice!.child.once('exit', (code) => resolve(code)));
  sluice.child.kill('SIGUSR2');
  assert.equal(await exit, 1);
  assert.equal(stderr, '');
  const lines = sluice
    .stdout()
    .split('\n')
    .filter((line) => line !== '');
  const records = lines.map(
    (line) => JSON.parse(line) as { level: number; msg: string; err?: { message: string; stack: string } },
  );
  const fatal = records.find((r) => r.level === 60);
  assert.ok(fatal, `a fatal line:\n${sluice.stdout()}`);
  assert.equal(fatal.msg, 'Sluice crashed on an error nothing caught');
  assert.equal(fatal.err?.message, 'boom with ***');
  assert.ok(!sluice.output().includes(SECRET), 'the secret shows nowhere');
});
