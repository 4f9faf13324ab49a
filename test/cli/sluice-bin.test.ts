/**
 * `bin/sluice.js` started by the machine's own, older Node (as `./bin/sluice.js`
 * or `node bin/sluice.js` in a shell without node_modules/.bin on PATH) runs
 * itself again on the Node 24 that `npm ci` brought, passing on arguments,
 * output, exit codes and signals.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SLUICE_BIN } from '../helpers/run-sluice.ts';

// The system's Node, as Debian ships it; the prerequisites ask for one (18 or newer).
const SYSTEM_NODE = '/usr/bin/node';

function run(args: string[], cwd: string) {
  return spawnSync(SYSTEM_NODE, [SLUICE_BIN, ...args], {
    cwd,
    encoding: 'utf8',
    env: { PATH: '/usr/bin:/bin', HOME: cwd },
  });
}

test('started by the system Node, the sluice command runs on the project Node 24 and ends as it ends', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bin-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const systemVersion = spawnSync(SYSTEM_NODE, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
  t.diagnostic(`system Node ${systemVersion}`);

  writeFileSync(join(dir, 'server.yml'), 'retention: { executions: 90d }\n');
  const valid = run(['validate', '--server', 'server.yml'], dir);
  assert.equal(valid.status, 0, valid.stderr);
  assert.equal(valid.stdout, '✓ server.yml is a valid server config (0 environments)\n');

  writeFileSync(join(dir, 'bad.yml'), 'retention: { executions: forever }\n');
  const invalid = run(['validate', '--server', 'bad.yml'], dir);
  assert.equal(invalid.status, 1, invalid.stdout + invalid.stderr);
  assert.match(
    invalid.stdout + invalid.stderr,
    /bad\.yml:1:26: retention\.executions: write how long finished executions are kept as a duration/,
  );

  const unknown = run(['nosuch'], dir);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /Unknown command "nosuch"/);
});

test('a SIGTERM to the sluice command started by the system Node reaches the command it runs', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bin-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // A command that runs until stopped: `validate` of a FIFO that nobody writes to.
  spawnSync('mkfifo', [join(dir, 'server.yml')]);
  const child = spawn(SYSTEM_NODE, [SLUICE_BIN, 'validate', '--server', 'server.yml'], {
    cwd: dir,
    env: { PATH: '/usr/bin:/bin', HOME: dir },
    stdio: 'ignore',
  });
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  // Wait until the Node 24 child has opened the FIFO: then it, not only its parent, is running.
  await new Promise<void>((resolve) => {
    const poll = () => {
      const found = spawnSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' }).stdout.trim();
      if (found) resolve();
      else setTimeout(poll, 50);
    };
    poll();
  });
  child.kill('SIGTERM');
  assert.deepEqual(await ended, { code: null, signal: 'SIGTERM' });
});
