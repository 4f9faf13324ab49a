import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { packCommand } from '../../src/actions/collect-artifact.ts';

const run = promisify(execFile);

describe('packing an artifact on the host', () => {
  it('writes a tarball of the paths and prints the sha256 of exactly what it wrote', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-pack-'));
    try {
      await writeFile(join(dir, 'app.js'), 'console.log(1)\n');
      await writeFile(join(dir, 'my file'), 'x');
      const out = join(dir, 'out.tar.gz');
      const { stdout } = await run('bash', ['-c', packCommand(out, ['app.js', 'my file'])], { cwd: dir });
      const written = createHash('sha256')
        .update(await readFile(out))
        .digest('hex');
      assert.equal(stdout.slice(0, 64), written);
      const { stdout: listed } = await run('tar', ['-tzf', out]);
      assert.deepEqual(listed.trim().split('\n'), ['app.js', 'my file']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails when tar fails, although gzip, tee and sha256sum succeed after it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-pack-'));
    try {
      await assert.rejects(
        run('bash', ['-c', packCommand(join(dir, 'out.tar.gz'), ['missing'])], { cwd: dir }),
        (error: { code?: number }) => error.code !== 0 && error.code !== undefined,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
