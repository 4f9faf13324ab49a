import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { access, mkdir, mkdtemp, open, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { packCommand, parsePacked } from '../../src/actions/collect-artifact.ts';

const run = promisify(execFile);

async function sha256(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Where the pack command writes: the tarball or the gzip, whichever it keeps. */
const outputs = (dir: string) => ({ tar: join(dir, 'out.tar'), gzip: join(dir, 'out.tar.gz') });

/**
 * A tool of the test's own named `name` first on the PATH the pack command runs with (a tar that fails on its
 * last pass, a dd as BSD's answers); `script` gets the machine's own as `$REAL`. Returns that environment.
 */
async function standIn(dir: string, name: string, script: string): Promise<NodeJS.ProcessEnv> {
  const bin = join(dir, 'bin');
  await mkdir(bin, { recursive: true });
  const real = (await run('bash', ['-c', `command -v ${name}`])).stdout.trim();
  await writeFile(join(bin, name), `#!/bin/sh\nREAL='${real}'\n${script}`, { mode: 0o755 });
  return { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` };
}

/** A tar that runs `shell` before its run number `when` (1: the count, 2: the sample, 3: the kept file). */
const tarRunning = (dir: string, when: number, shell: string) =>
  standIn(
    dir,
    'tar',
    `echo x >> "${join(dir, 'calls')}"\nif [ "$(wc -l < "${join(dir, 'calls')}")" -eq ${when} ]; then ${shell}; fi\nexec "$REAL" "$@"\n`,
  );

describe('packing an artifact on the host', () => {
  it('writes a gzipped tarball of paths that compress and prints the sha256 of exactly what it wrote', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-pack-'));
    try {
      await writeFile(join(dir, 'app.js'), 'console.log(1)\n');
      await writeFile(join(dir, 'my file'), 'x');
      const out = outputs(dir);
      const { stdout } = await run('bash', ['-c', packCommand(out, ['app.js', 'my file'])], { cwd: dir });
      const packed = parsePacked(stdout.trim(), 'packing');
      assert.equal(packed.format, 'gzip');
      assert.equal(packed.sha256, await sha256(out.gzip));
      assert.equal(await exists(out.tar), false, 'the plain tarball is removed once gzipped');
      const { stdout: listed } = await run('tar', ['-tzf', out.gzip]);
      assert.deepEqual(listed.trim().split('\n'), ['app.js', 'my file']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  for (const [what, bytes] of [
    ['smaller than its sample', 200 * 1024],
    ['larger than its sample', 3 * 1024 * 1024 + 12_345],
  ] as const) {
    it(`leaves a plain tarball of random bytes ${what} (they do not compress) and prints its sha256`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'sluice-pack-'));
      try {
        await writeFile(join(dir, 'app.js'), 'console.log(1)\n');
        await writeFile(join(dir, 'payload.bin'), randomBytes(bytes));
        const out = outputs(dir);
        const { stdout } = await run('bash', ['-c', packCommand(out, ['app.js', 'payload.bin'])], { cwd: dir });
        const packed = parsePacked(stdout.trim(), 'packing');
        assert.equal(packed.format, 'tar');
        assert.equal(packed.sha256, await sha256(out.tar));
        assert.equal(await exists(out.gzip), false);
        const { stdout: listed } = await run('tar', ['-tf', out.tar]);
        assert.deepEqual(listed.trim().split('\n'), ['app.js', 'payload.bin']);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }

  it('gzips a large tarball whose random part is only at its start', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-pack-'));
    try {
      await writeFile(join(dir, 'a.bin'), randomBytes(512 * 1024));
      await writeFile(join(dir, 'b.txt'), 'a line of text, again and again\n'.repeat(200_000));
      const out = outputs(dir);
      const { stdout } = await run('bash', ['-c', packCommand(out, ['a.bin', 'b.txt'])], { cwd: dir });
      const packed = parsePacked(stdout.trim(), 'packing');
      assert.equal(packed.format, 'gzip');
      assert.equal(packed.sha256, await sha256(out.gzip));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('packs an artifact that gzips small on a host that has room only for about its gzipped size', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-pack-'));
    try {
      // 64 MiB of zeros (sparse, so it takes no room here) gzip to about 64 KiB; the host
      // lets the pack write no file over 8 MiB, as a disk with little room left would.
      await writeFile(join(dir, 'zeros.img'), '');
      await truncate(join(dir, 'zeros.img'), 64 * 1024 * 1024);
      const out = outputs(dir);
      const { stdout } = await run('bash', ['-c', `ulimit -f 8192; ${packCommand(out, ['zeros.img'])}`], { cwd: dir });
      const packed = parsePacked(stdout.trim(), 'packing');
      assert.equal(packed.format, 'gzip');
      assert.equal(packed.sha256, await sha256(out.gzip));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps plain, whole and with its true digest, an artifact whose sample is random and the rest zeros', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-pack-'));
    try {
      const file = join(dir, 'data.bin');
      await writeFile(file, Buffer.alloc(16 * 1024 * 1024));
      await run('tar', ['-cf', join(dir, 'probe.tar'), 'data.bin'], { cwd: dir });
      // The tarball's slices as the sample takes them, and where each falls in the file (after its 512-byte header).
      const blocks = Math.floor((await stat(join(dir, 'probe.tar'))).size / 65536);
      await rm(join(dir, 'probe.tar'));
      const handle = await open(file, 'r+');
      try {
        for (let i = 0; i < 16; i++) {
          const at = Math.floor((i * blocks) / 16) * 65536 - 512;
          await handle.write(randomBytes(65536), 0, 65536, Math.max(at, 0));
        }
      } finally {
        await handle.close();
      }
      const out = outputs(dir);
      const { stdout } = await run('bash', ['-c', packCommand(out, ['data.bin'])], { cwd: dir });
      const packed = parsePacked(stdout.trim(), 'packing');
      // The sample judges by its places alone (gzip-stored.ts): the cost of a
      // larger artifact falls on whoever chose those bytes, and what is kept is right.
      assert.equal(packed.format, 'tar', 'its sample is random');
      assert.equal(packed.sha256, await sha256(out.tar));
      assert.equal(await exists(out.gzip), false);
      const unpacked = join(dir, 'unpacked');
      await mkdir(unpacked);
      await run('tar', ['-xf', out.tar, '-C', unpacked]);
      assert.ok((await readFile(join(unpacked, 'data.bin'))).equals(await readFile(file)), 'the file, byte for byte');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails when tar fails, although gzip, tee and sha256sum succeed after it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-pack-'));
    try {
      const out = outputs(dir);
      await assert.rejects(
        run('bash', ['-c', packCommand(out, ['missing'])], { cwd: dir }),
        (error: { code?: number }) => error.code !== 0 && error.code !== undefined,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('says that dd failed when it cannot cut the sample, as a dd without iflag=fullblock cannot', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-pack-'));
    try {
      // As BSD dd answers an operand it does not know.
      const env = await standIn(
        dir,
        'dd',
        `for a; do case "$a" in iflag=*) echo "dd: unknown operand iflag" >&2; exit 1;; esac; done\nexec "$REAL" "$@"\n`,
      );
      await writeFile(join(dir, 'payload.bin'), randomBytes(3 * 1024 * 1024));
      const out = outputs(dir);
      await assert.rejects(
        run('bash', ['-c', packCommand(out, ['payload.bin'])], { cwd: dir, env }),
        (error: { code?: number; stderr?: string }) =>
          error.code !== 0 && /dd: unknown operand iflag/.test(error.stderr ?? ''),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails and leaves no partial file when tar fails only on its last pass', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-pack-'));
    try {
      // tar as it fails when a file vanishes while the kept file is written: part of the stream, then an error.
      const env = await tarRunning(
        dir,
        3,
        `"$REAL" "$@" | head -c 4096; echo "tar: payload.bin: Cannot open" >&2; exit 2`,
      );
      for (const [what, payload] of [
        ['gzip', Buffer.from('a line of text, again and again\n'.repeat(100_000))],
        ['tar', randomBytes(3 * 1024 * 1024)],
      ] as const) {
        await rm(join(dir, 'calls'), { force: true });
        await writeFile(join(dir, 'payload.bin'), payload);
        const out = outputs(dir);
        await assert.rejects(
          run('bash', ['-c', packCommand(out, ['payload.bin'])], { cwd: dir, env }),
          (error: { code?: number }) => error.code !== 0 && error.code !== undefined,
        );
        assert.equal(await exists(out.gzip), false, `${what}: no partial gzip`);
        assert.equal(await exists(out.tar), false, `${what}: no partial tarball`);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  for (const [what, when, change] of [
    ['deleted after it was counted', 2, 'rm -f payload.bin'],
    ['deleted after it was sampled', 3, 'rm -f payload.bin'],
  ] as const) {
    it(`fails, leaving no file, when a path is ${what}`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'sluice-pack-'));
      try {
        const env = await tarRunning(dir, when, change);
        await writeFile(join(dir, 'app.js'), 'console.log(1)\n');
        await writeFile(join(dir, 'payload.bin'), randomBytes(3 * 1024 * 1024));
        const out = outputs(dir);
        await assert.rejects(
          run('bash', ['-c', packCommand(out, ['app.js', 'payload.bin'])], { cwd: dir, env }),
          (error: { code?: number }) => error.code !== 0 && error.code !== undefined,
        );
        assert.equal(await exists(out.gzip), false);
        assert.equal(await exists(out.tar), false);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }

  it('keeps a path as it is on the last pass, whole and with its true digest, however it changed since it was sampled', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-pack-'));
    try {
      const env = await tarRunning(dir, 3, 'mv -f next.bin payload.bin');
      // Random when sampled (kept plain), text when written: the decision may be wrong, the file may not.
      await writeFile(join(dir, 'payload.bin'), randomBytes(3 * 1024 * 1024));
      const text = Buffer.from('a line of text, again and again\n'.repeat(300_000));
      await writeFile(join(dir, 'next.bin'), text);
      const out = outputs(dir);
      const { stdout } = await run('bash', ['-c', packCommand(out, ['payload.bin'])], { cwd: dir, env });
      const packed = parsePacked(stdout.trim(), 'packing');
      assert.equal(packed.format, 'tar');
      assert.equal(packed.sha256, await sha256(out.tar));
      const unpacked = join(dir, 'unpacked');
      await mkdir(unpacked);
      await run('tar', ['-xf', out.tar, '-C', unpacked]);
      assert.ok((await readFile(join(unpacked, 'payload.bin'))).equals(text), 'the file, byte for byte');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a line that names no format or no digest', () => {
    assert.throws(() => parsePacked(undefined, 'packing'), /packing gave unexpected output: \(nothing\)/);
    assert.throws(() => parsePacked('zip 1234', 'packing'), /unexpected output/);
    assert.throws(() => parsePacked('tar nonsense', 'packing'), /unexpected output/);
  });
});
