/**
 * The systemd unit README tells operators to install, checked by systemd's
 * own verifier as it will be installed (/opt/sluice standing for this
 * checkout), so a typo or a key in the wrong section cannot ship.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseDuration } from '../../src/config/parse-duration.ts';
import { DEFAULT_STOP_GRACE_MS } from '../../src/config/read-settings.ts';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
const unit = readFileSync(join(root, 'systemd', 'sluice.service'), 'utf8');

async function verify(text: string): Promise<{ code: number; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-unit-'));
  try {
    const file = join(dir, 'sluice.service');
    writeFileSync(file, text.replaceAll('/opt/sluice', root));
    const { stdout, stderr } = await run('systemd-analyze', ['verify', file]);
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT')
      throw new Error("systemd-analyze is missing: install Debian's systemd package (.ci/run does)", { cause: error });
    return { code: Number(e.code), output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('systemd verifies the unit without a word of complaint', async () => {
  assert.deepEqual(await verify(unit), { code: 0, output: '' });
});

test('the unit keeps state in its StateDirectory, reads an EnvironmentFile, restarts on failure and stops with SIGTERM', () => {
  const settings = (key: string) => [...unit.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]);
  assert.deepEqual(settings('StateDirectory'), ['sluice']);
  assert.deepEqual(
    settings('Environment').filter((e) => e?.startsWith('SLUICE_DATA_DIR=')),
    ['SLUICE_DATA_DIR=%S/sluice'],
  );
  assert.deepEqual(settings('EnvironmentFile'), ['/etc/sluice/sluice.env']);
  assert.deepEqual(settings('Restart'), ['on-failure']);
  assert.deepEqual(settings('KillSignal'), ['SIGTERM']);
  assert.deepEqual(settings('ExecStart'), ['/opt/sluice/node_modules/.bin/node /opt/sluice/src/main.ts']);
});

test('systemd waits longer than Sluice’s grace period on a stop, leaving room for a rollback', () => {
  const [timeout] = [...unit.matchAll(/^TimeoutStopSec=(.*)$/gm)].map((m) => m[1]);
  const ms = parseDuration(timeout?.replace(/min$/, 'm') ?? '');
  assert.ok(
    ms !== undefined && ms >= 2 * DEFAULT_STOP_GRACE_MS,
    `TimeoutStopSec=${timeout} leaves no room after the ${DEFAULT_STOP_GRACE_MS / 1000} s grace period`,
  );
});

test('the check catches a broken unit', async () => {
  const broken = await verify(unit.replace('Restart=on-failure', 'Restart=sometimes'));
  assert.match(broken.output, /Failed to parse service restart specifier/);
  const missing = await verify(unit.replace('/opt/sluice/node_modules/.bin/node', '/opt/sluice/no-such-node'));
  assert.notEqual(missing.code, 0);
  assert.match(missing.output, /is not executable/);
});
