/**
 * SIGTERM while Sluice is still starting — here it waits for disk space to
 * make its database — ends it at once with a line in the log format saying
 * so (exit 0, as systemd expects of a stop), not silently by the signal.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { freeLoopbackPort } from '../helpers/free-port.ts';
import { startSluiceProcess, type SluiceProcess } from '../helpers/sluice-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-sigterm-start-'));
const data = join(dir, 'data');
let mounted = false;
let sluice: SluiceProcess | undefined;

after(async () => {
  await sluice?.kill();
  if (mounted) execFileSync('umount', ['-l', data]);
  rmSync(dir, { recursive: true, force: true });
});

test(
  'SIGTERM during start-up (waiting for disk space): a JSON line says Sluice exits before it started, and it exits 0',
  { timeout: 120_000 },
  async () => {
    if (process.getuid?.() !== 0) throw new Error('this test mounts a tmpfs: run it as root');
    mkdirSync(data);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', data]);
    mounted = true;
    const fd = openSync(join(data, 'filler'), 'w');
    try {
      for (const chunk = Buffer.alloc(64 * 1024); ;) writeSync(fd, chunk);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
    } finally {
      closeSync(fd);
    }
    sluice = await startSluiceProcess({
      cwd: dir,
      port: await freeLoopbackPort(),
      env: { SLUICE_DATA_DIR: data, LOG_FORMAT: 'json' },
      ready: /disk full at/,
    });
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      sluice!.child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    sluice.child.kill('SIGTERM');
    assert.deepEqual(await exit, { code: 0, signal: null });
    const records = sluice
      .stdout()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { level: number; msg: string });
    assert.ok(
      records.some(
        (r) => r.level === 40 && /^SIGTERM during start-up: Sluice exits now, before it started/.test(r.msg),
      ),
      `a line says why it exits:\n${sluice.stdout()}`,
    );
  },
);
