import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ArtifactError } from '../../src/sluice-error.ts';
import { packSource, readRevision } from '../../src/artifact/pack-source.ts';
import { makeGitCheckout, type GitCheckout } from './make-git-checkout.ts';

const run = promisify(execFile);
const packSourceModule = new URL('../../src/artifact/pack-source.ts', import.meta.url).href;

async function listTarball(file: string): Promise<string[]> {
  const { stdout } = await run('tar', ['-tzf', file]);
  return stdout.split('\n').filter(Boolean).sort();
}

describe('packSource', () => {
  let checkout: GitCheckout;
  let out: string;

  before(async () => {
    checkout = await makeGitCheckout({
      '.gitignore': 'node_modules/\n*.log\n',
      'README.md': '# app\n',
      'src/app.js': 'console.log(1);\n',
      'old.txt': 'to be deleted\n',
    });
    await checkout.git('add', '.');
    await checkout.git('commit', '--quiet', '-m', 'Add app');
    await checkout.write('src/app.js', 'console.log(2);\n');
    await checkout.write('docs/my notes.md', 'untracked, with a space\n');
    await checkout.write('-rf', 'a file named like an option\n');
    await checkout.write('debug.log', 'ignored\n');
    await checkout.write('node_modules/x/index.js', 'ignored\n');
    await checkout.write('data/artifacts/abc.tar.gz', 'the data dir, excluded\n');
    await unlink(join(checkout.dir, 'old.txt'));
    out = join(await mkdtemp(join(tmpdir(), 'sluice-pack-')), 'source.tar.gz');
  });
  after(async () => {
    await checkout.remove();
    await rm(join(out, '..'), { recursive: true, force: true });
  });

  it('packs the working tree as git sees it: edits and new files in, ignored and deleted files out', async () => {
    await packSource(checkout.dir, out, { exclude: [join(checkout.dir, 'data')] });
    assert.deepEqual(await listTarball(out), ['-rf', '.gitignore', 'README.md', 'docs/my notes.md', 'src/app.js']);
    const unpacked = await mkdtemp(join(tmpdir(), 'sluice-unpack-'));
    try {
      await run('tar', ['-xzf', out, '-C', unpacked]);
      assert.equal(await readFile(join(unpacked, 'src/app.js'), 'utf8'), 'console.log(2);\n', 'the uncommitted edit');
    } finally {
      await rm(unpacked, { recursive: true, force: true });
    }
  });

  it('does not pack the archive into itself when it is written inside the checkout', async () => {
    const inside = join(checkout.dir, 'source.tar.gz');
    try {
      await packSource(checkout.dir, inside, { exclude: [join(checkout.dir, 'data')] });
      assert.ok(!(await listTarball(inside)).includes('source.tar.gz'));
    } finally {
      await rm(inside, { force: true });
    }
  });

  it('gzips a source that compresses and stores one that does not as it is, a tar.gz either way', async () => {
    const noise = join(checkout.dir, 'noise.bin');
    try {
      await checkout.write('text.txt', 'a line of the app, again and again\n'.repeat(60_000));
      await packSource(checkout.dir, out, { exclude: [join(checkout.dir, 'data')] });
      const text = (await stat(out)).size;
      assert.ok(text < 200_000, `${text} bytes: the text was gzipped`);
      await rm(join(checkout.dir, 'text.txt'));
      await writeFile(noise, randomBytes(2_000_000));
      await packSource(checkout.dir, out, { exclude: [join(checkout.dir, 'data')] });
      const random = (await stat(out)).size;
      assert.ok(random > 2_000_000 && random < 2_100_000, `${random} bytes: the random bytes were stored as they are`);
      assert.ok((await listTarball(out)).includes('noise.bin'));
      assert.deepEqual(
        (await readdir(join(out, '..'))).filter((name) => name !== 'source.tar.gz'),
        [],
        'no plain tarball is left beside it',
      );
    } finally {
      await rm(noise, { force: true });
      await rm(join(checkout.dir, 'text.txt'), { force: true });
    }
  });

  it('packs a source that gzips small where there is room only for about its gzipped size', async () => {
    const roomy = await makeGitCheckout({ 'README.md': '# app\n' });
    const dir = await mkdtemp(join(tmpdir(), 'sluice-pack-'));
    try {
      // 64 MiB of zeros (sparse, so it takes no room here) gzip to about 64 KiB; no file
      // over 8 MiB may be written, as on a disk with little room left.
      await writeFile(join(roomy.dir, 'zeros.img'), '');
      await truncate(join(roomy.dir, 'zeros.img'), 64 * 1024 * 1024);
      const target = join(dir, 'source.tar.gz');
      const script = `import { packSource } from ${JSON.stringify(packSourceModule)}; await packSource(process.argv[1], process.argv[2]);`;
      await run('bash', [
        '-c',
        'ulimit -f 8192; exec "$0" --input-type=module -e "$1" "$2" "$3"',
        process.execPath,
        script,
        roomy.dir,
        target,
      ]);
      assert.ok((await stat(target)).size < 1024 * 1024);
      assert.deepEqual(await listTarball(target), ['README.md', 'zeros.img']);
    } finally {
      await roomy.remove();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('never packs a Sluice data directory left in the checkout, whatever its name', async () => {
    await checkout.write('state/sluice.db', 'a database\n');
    await checkout.write('state/sluice.lock', '');
    await checkout.write('state/artifacts/abc.tar.gz', 'an artifact\n');
    await checkout.write('notes/sluice.db', 'a file of that name alone is source\n');
    try {
      await packSource(checkout.dir, out, { exclude: [join(checkout.dir, 'data')] });
      const names = await listTarball(out);
      assert.ok(!names.some((name) => name.startsWith('state/')), names.join(', '));
      assert.ok(names.includes('notes/sluice.db'));
    } finally {
      await rm(join(checkout.dir, 'state'), { recursive: true, force: true });
      await rm(join(checkout.dir, 'notes'), { recursive: true, force: true });
    }
  });

  it('says which signal killed tar, and leaves no source behind', async () => {
    const bin = await mkdtemp(join(tmpdir(), 'sluice-bin-'));
    const path = process.env.PATH;
    try {
      await writeFile(join(bin, 'tar'), '#!/bin/sh\nkill -KILL $$\n', { mode: 0o755 });
      process.env.PATH = `${bin}:${path ?? ''}`;
      await assert.rejects(packSource(checkout.dir, join(bin, 'source.tar.gz')), (error: unknown) => {
        return (
          error instanceof ArtifactError &&
          error.code === 'PACK_FAILED' &&
          error.message.includes('tar was killed by SIGKILL')
        );
      });
      assert.deepEqual(await readdir(bin), ['tar']);
    } finally {
      process.env.PATH = path;
      await rm(bin, { recursive: true, force: true });
    }
  });

  /** Puts a tar first on PATH that runs `before` (shell text; $n is its call, from 1) and then the real tar. */
  async function withTar<T>(before: string, body: (bin: string) => Promise<T>): Promise<T> {
    const bin = await mkdtemp(join(tmpdir(), 'sluice-bin-'));
    const path = process.env.PATH;
    try {
      const real = (await run('bash', ['-c', 'command -v tar'])).stdout.trim();
      const calls = join(bin, 'calls');
      await writeFile(
        join(bin, 'tar'),
        `#!/bin/sh\necho x >> '${calls}'\nn=$(wc -l < '${calls}')\n${before}\nexec '${real}' "$@"\n`,
        { mode: 0o755 },
      );
      process.env.PATH = `${bin}:${path ?? ''}`;
      return await body(bin);
    } finally {
      process.env.PATH = path;
      await rm(bin, { recursive: true, force: true });
    }
  }

  it('fails, leaving no source behind, when tar fails only while the source is written', async () => {
    const real = (await run('bash', ['-c', 'command -v tar'])).stdout.trim();
    await withTar(
      `if [ "$n" -ge 3 ]; then '${real}' "$@" | head -c 4096; echo "tar: src/app.js: Cannot open" >&2; exit 2; fi`,
      async (bin) => {
        const target = join(bin, 'source.tar.gz');
        await assert.rejects(packSource(checkout.dir, target, { exclude: [join(checkout.dir, 'data')] }), (error) => {
          return error instanceof ArtifactError && error.code === 'PACK_FAILED' && /Cannot open/.test(error.message);
        });
        assert.deepEqual((await readdir(bin)).sort(), ['calls', 'tar']);
      },
    );
  });

  it('fails when a file is deleted after the tarball was counted', async () => {
    await checkout.write('brief.txt', 'there when counted\n');
    try {
      await withTar(`if [ "$n" -eq 2 ]; then rm -f brief.txt; fi`, async (bin) => {
        const target = join(bin, 'source.tar.gz');
        await assert.rejects(
          packSource(checkout.dir, target, { exclude: [join(checkout.dir, 'data')] }),
          (error) => error instanceof ArtifactError && error.code === 'PACK_FAILED',
        );
        assert.deepEqual((await readdir(bin)).sort(), ['calls', 'tar']);
      });
    } finally {
      await rm(join(checkout.dir, 'brief.txt'), { force: true });
    }
  });

  it('writes a file as it is when the source is written, whole, however it changed since it was sampled', async () => {
    const grown = join(checkout.dir, 'grown.bin');
    await writeFile(grown, 'small\n');
    try {
      const bytes = randomBytes(3 * 1024 * 1024);
      await writeFile(join(checkout.dir, 'grown.next'), bytes);
      await withTar(`if [ "$n" -eq 3 ]; then mv -f grown.next grown.bin; fi`, async (bin) => {
        const target = join(bin, 'source.tar.gz');
        await packSource(checkout.dir, target, {
          exclude: [join(checkout.dir, 'data'), join(checkout.dir, 'grown.next')],
        });
        const unpacked = await mkdtemp(join(tmpdir(), 'sluice-unpack-'));
        try {
          await run('tar', ['-xzf', target, '-C', unpacked]);
          assert.ok((await readFile(join(unpacked, 'grown.bin'))).equals(bytes), 'the file, byte for byte');
        } finally {
          await rm(unpacked, { recursive: true, force: true });
        }
      });
    } finally {
      await rm(grown, { force: true });
      await rm(join(checkout.dir, 'grown.next'), { force: true });
    }
  });

  it('refuses a directory that is not a git checkout, saying which', async () => {
    const plain = await mkdtemp(join(tmpdir(), 'sluice-plain-'));
    try {
      await assert.rejects(packSource(plain, out), (error: unknown) => {
        return (
          error instanceof ArtifactError &&
          error.code === 'NOT_A_GIT_CHECKOUT' &&
          error.message.startsWith(`${plain} is not a git checkout`)
        );
      });
    } finally {
      await rm(plain, { recursive: true, force: true });
    }
  });
});

describe('readRevision', () => {
  let checkout: GitCheckout;

  before(async () => {
    checkout = await makeGitCheckout({ 'a.txt': 'a\n' });
    await checkout.git('add', '.');
    await checkout.git('commit', '--quiet', '-m', 'Fix $(touch pwned) `id`', '-m', 'A body that is not the subject.');
  });
  after(() => checkout.remove());

  it('reads the sha, branch, subject and author of HEAD', async () => {
    assert.deepEqual(await readRevision(checkout.dir), {
      sha: await checkout.git('rev-parse', 'HEAD'),
      ref: 'main',
      message: 'Fix $(touch pwned) `id`',
      author: 'Ada Lovelace <ada@example.com>',
    });
  });

  it('leaves out the branch when HEAD is detached', async () => {
    await checkout.git('checkout', '--quiet', '--detach');
    try {
      const revision = await readRevision(checkout.dir);
      assert.equal(revision.ref, undefined);
      assert.equal(revision.sha, await checkout.git('rev-parse', 'HEAD'));
    } finally {
      await checkout.git('checkout', '--quiet', 'main');
    }
  });

  it('says so when the repository has no commits', async () => {
    const empty = await makeGitCheckout();
    try {
      await assert.rejects(
        readRevision(empty.dir),
        (error: unknown) => error instanceof ArtifactError && error.code === 'NO_COMMITS',
      );
    } finally {
      await empty.remove();
    }
  });
});
