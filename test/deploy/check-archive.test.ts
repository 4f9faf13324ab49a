import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { checkArchive, UnsafeArchiveError } from '../../src/deploy/check-archive.ts';

const root = mkdtempSync(join(tmpdir(), 'sluice-archive-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** Build a tar.gz with GNU tar from a directory laid out by `make`. */
function archive(name: string, make: (dir: string) => void, members: string[] = ['.'], extra: string[] = []): string {
  const dir = join(root, name);
  mkdirSync(dir);
  make(dir);
  const file = join(root, `${name}.tar.gz`);
  execFileSync('tar', ['-czf', file, '-C', dir, ...extra, ...members]);
  return file;
}

const unsafe = (pattern: RegExp) => (error: unknown) => error instanceof UnsafeArchiveError && pattern.test(error.message);

test('an ordinary artifact with files, directories, inner links and long names passes', async () => {
  const file = archive('ok', (d) => {
    mkdirSync(join(d, 'dist/assets'), { recursive: true });
    writeFileSync(join(d, 'dist/index.js'), 'x');
    symlinkSync('index.js', join(d, 'dist/main.js'));
    symlinkSync('../dist', join(d, 'dist/assets/up'));
    writeFileSync(join(d, `dist/${'n'.repeat(150)}.txt`), 'long');
  });
  assert.equal(await checkArchive(file), 7);
});

test('a link that points out of the release is refused, naming the member', async () => {
  const file = archive('escape', (d) => symlinkSync('../../etc/passwd', join(d, 'passwd')));
  await assert.rejects(checkArchive(file), unsafe(/symbolic link "\.\/passwd" points out of the release \(to "\.\.\/\.\.\/etc\/passwd"\)/));
});

test('an absolute link is refused', async () => {
  const file = archive('absolute-link', (d) => symlinkSync('/etc', join(d, 'etc')));
  await assert.rejects(checkArchive(file), unsafe(/points out of the release \(to "\/etc"\)/));
});

/** GNU tar cleans hostile names when it creates an archive; Python's tarfile writes them as given. */
function hostileArchive(name: string, member: string): string {
  const file = join(root, `${name}.tar.gz`);
  const script = `import tarfile, io, sys
with tarfile.open(sys.argv[1], 'w:gz') as t:
    info = tarfile.TarInfo(sys.argv[2]); data = b'pwned'; info.size = len(data)
    t.addfile(info, io.BytesIO(data))`;
  execFileSync('python3', ['-c', script, file, member]);
  return file;
}

test('members with ../ or absolute paths are refused', async () => {
  await assert.rejects(checkArchive(hostileArchive('dotdot', 'dist/../../outside.txt')), unsafe(/"dist\/\.\.\/\.\.\/outside\.txt" climbs out of the release with "\.\."/));
  await assert.rejects(checkArchive(hostileArchive('absolute', '/tmp/pwned')), unsafe(/"\/tmp\/pwned" is an absolute path; artifact paths must be relative/));
});

test('a truncated archive is refused rather than half-checked', async () => {
  const file = archive('big', (d) => writeFileSync(join(d, 'blob'), Buffer.alloc(200_000, 7)));
  const bytes = execFileSync('gzip', ['-dc', file]).subarray(0, 100_000);
  const cut = join(root, 'cut.tar.gz');
  writeFileSync(cut, execFileSync('gzip', ['-c'], { input: bytes }));
  await assert.rejects(checkArchive(cut), unsafe(/ends in the middle of a member/));
});
