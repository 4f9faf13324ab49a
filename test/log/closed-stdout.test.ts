/**
 * A log reader that goes away (`npm start | head`, a log shipper that died)
 * closes the pipe on stdout: Node then reports EPIPE on the next line, which
 * must not end the service — here the next line is the stop's own, and the
 * stop still ends cleanly, with no unhandled error on stderr.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { freeLoopbackPort } from '../helpers/free-port.ts';
import { startSluiceProcess, type SluiceProcess } from '../helpers/sluice-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-closed-stdout-'));
let sluice: SluiceProcess | undefined;

after(async () => {
  await sluice?.kill();
  rmSync(dir, { recursive: true, force: true });
});

test(
  'stdout closed by its reader: the service keeps running, and SIGTERM still stops it cleanly',
  { timeout: 120_000 },
  async () => {
    sluice = await startSluiceProcess({
      cwd: dir,
      port: await freeLoopbackPort(),
      env: { SLUICE_DATA_DIR: join(dir, 'data'), LOG_FORMAT: 'json' },
    });
    let stderr = '';
    sluice.child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exit = new Promise<number | null>((resolve) => sluice!.child.once('exit', (code) => resolve(code)));
    // The reader of the pipe goes away.
    sluice.child.stdout!.destroy();
    const page = await fetch(`${sluice.url}/`);
    assert.ok(page.status < 500, `Sluice answers after its stdout closed (HTTP ${page.status})`);
    sluice.child.kill('SIGTERM');
    assert.equal(await exit, 0, `Sluice exited cleanly; its stderr:\n${stderr}`);
    assert.doesNotMatch(stderr, /EPIPE|Unhandled 'error' event/);
  },
);
