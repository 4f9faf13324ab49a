import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readlinkSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { compresses, gzipFile } from '../../src/artifact/gzip-stored.ts';
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

const unsafe = (pattern: RegExp) => (error: unknown) =>
  error instanceof UnsafeArchiveError && pattern.test(error.message);

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
  await assert.rejects(
    checkArchive(file),
    unsafe(/symbolic link "\.\/passwd" points out of the release \(to "\.\.\/\.\.\/etc\/passwd"\)/),
  );
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

test('an archive made a gzip file of stored blocks (an artifact that does not compress) is checked the same', async () => {
  const plain = (name: string, make: (dir: string) => void) => {
    const dir = join(root, name);
    mkdirSync(dir);
    make(dir);
    const file = join(root, `${name}.tar`);
    execFileSync('tar', ['-cf', file, '-C', dir, '.']);
    return file;
  };
  const ok = plain('stored-ok', (d) => {
    writeFileSync(join(d, 'noise'), randomBytes(300_000));
    symlinkSync('noise', join(d, 'inner'));
  });
  const escape = plain('stored-escape', (d) => {
    writeFileSync(join(d, 'noise'), randomBytes(300_000));
    symlinkSync('../../etc/passwd', join(d, 'passwd'));
  });
  for (const file of [ok, escape]) assert.equal(await compresses(file), false);
  await gzipFile(ok, `${ok}.gz`);
  await gzipFile(escape, `${escape}.gz`);
  assert.equal(await checkArchive(`${ok}.gz`), 3);
  await assert.rejects(
    checkArchive(`${escape}.gz`),
    unsafe(/symbolic link "\.\/passwd" points out of the release \(to "\.\.\/\.\.\/etc\/passwd"\)/),
  );
});

test('members with ../ or absolute paths are refused', async () => {
  await assert.rejects(
    checkArchive(hostileArchive('dotdot', 'dist/../../outside.txt')),
    unsafe(/"dist\/\.\.\/\.\.\/outside\.txt" climbs out of the release with "\.\."/),
  );
  await assert.rejects(
    checkArchive(hostileArchive('absolute', '/tmp/pwned')),
    unsafe(/"\/tmp\/pwned" is an absolute path; artifact paths must be relative/),
  );
});

test('a truncated archive is refused rather than half-checked', async () => {
  const file = archive('big', (d) => writeFileSync(join(d, 'blob'), Buffer.alloc(200_000, 7)));
  const bytes = execFileSync('gzip', ['-dc', file]).subarray(0, 100_000);
  const cut = join(root, 'cut.tar.gz');
  writeFileSync(cut, execFileSync('gzip', ['-c'], { input: bytes }));
  await assert.rejects(checkArchive(cut), unsafe(/ends in the middle of a member/));
});

type Crafted = { name: string; kind: 'file' | 'dir' | 'symlink' | 'hardlink' | 'fifo'; link?: string };

/** An archive with exactly these members, in this order, as a hostile build could write it. */
function craftedArchive(name: string, members: Crafted[]): string {
  const file = join(root, `${name}.tar.gz`);
  const script = `import tarfile, io, sys, json
kinds = {'file': tarfile.REGTYPE, 'dir': tarfile.DIRTYPE, 'symlink': tarfile.SYMTYPE, 'hardlink': tarfile.LNKTYPE, 'fifo': tarfile.FIFOTYPE}
with tarfile.open(sys.argv[1], 'w:gz', format=tarfile.PAX_FORMAT) as t:
    for m in json.loads(sys.argv[2]):
        info = tarfile.TarInfo(m['name']); info.type = kinds[m['kind']]; info.linkname = m.get('link', '')
        data = b'pwned' if m['kind'] == 'file' else b''
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))`;
  execFileSync('python3', ['-c', script, file, JSON.stringify(members)]);
  return file;
}

test('links are resolved through the archive’s own links: chains that climb out are refused', async () => {
  const cases: Array<[string, Crafted[], RegExp]> = [
    [
      'chain',
      [
        { name: 'p', kind: 'symlink', link: '.' },
        { name: 'p/p/p/x', kind: 'symlink', link: '../../..' },
      ],
      /"p\/p\/p\/x" is written through the symbolic link "p"/,
    ],
    [
      'through-inner-link',
      [
        { name: 'dist', kind: 'dir' },
        { name: 'lib', kind: 'symlink', link: 'dist' },
        { name: 'lib/app.js', kind: 'file' },
      ],
      /"lib\/app\.js" is written through the symbolic link "lib"/,
    ],
    [
      'looks-inside',
      [
        { name: 'd', kind: 'symlink', link: '.' },
        { name: 'e', kind: 'symlink', link: 'd/d/..' },
      ],
      /symbolic link "e" points out of the release \(to "d\/d\/\.\."\)/,
    ],
    [
      'later-link',
      [
        { name: 'a', kind: 'dir' },
        { name: 'l', kind: 'symlink', link: 'b/..' },
        { name: 'b', kind: 'symlink', link: '.' },
      ],
      /symbolic link "l" points out of the release \(to "b\/\.\."\)/,
    ],
    [
      'deep-chain',
      [
        { name: 'a', kind: 'symlink', link: 'b/c' },
        { name: 'b', kind: 'dir' },
        { name: 'b/c', kind: 'symlink', link: '../..' },
      ],
      /symbolic link "b\/c" points out of the release/,
    ],
    [
      'loop',
      [
        { name: 'a', kind: 'symlink', link: 'b' },
        { name: 'b', kind: 'symlink', link: 'a' },
      ],
      /symbolic link "[ab]" points out of the release/,
    ],
    [
      'twice',
      [
        { name: 'x', kind: 'file' },
        { name: 'x', kind: 'symlink', link: '.' },
      ],
      /"x" is in the archive twice; the second would replace the first/,
    ],
    [
      'hard-out',
      [{ name: 'h', kind: 'hardlink', link: '../outside' }],
      /"h" climbs out|hard link "h" points out of the release \(to "\.\.\/outside"\)/,
    ],
    [
      'hard-through',
      [
        { name: 'up', kind: 'symlink', link: '.' },
        { name: 'h', kind: 'hardlink', link: 'up/../../etc/passwd' },
      ],
      /hard link "h" points out of the release/,
    ],
    // A hard link to a symbolic link copies the link's text to another directory, where it climbs out.
    [
      'hard-to-symlink',
      [
        { name: 'a', kind: 'dir' },
        { name: 'a/b', kind: 'dir' },
        { name: 'a/b/c', kind: 'dir' },
        { name: 'a/b/c/s', kind: 'symlink', link: '../../..' },
        { name: 'h', kind: 'hardlink', link: 'a/b/c/s' },
      ],
      /hard link "h" points at the symbolic link "a\/b\/c\/s"; an artifact may not hard-link its own links/,
    ],
    [
      'hard-to-symlink-sluice',
      [
        { name: 'a', kind: 'dir' },
        { name: 'a/s', kind: 'symlink', link: '..' },
        { name: '.sluice', kind: 'hardlink', link: 'a/s' },
      ],
      /hard link "\.sluice" points at the symbolic link "a\/s"/,
    ],
    ['fifo', [{ name: 'pipe', kind: 'fifo' }], /"pipe" is a device or FIFO/],
    [
      'replace-root',
      [{ name: '.', kind: 'symlink', link: '/srv' }],
      /points out of the release|would replace the release directory itself/,
    ],
  ];
  for (const [name, members, expected] of cases) {
    await assert.rejects(checkArchive(craftedArchive(name, members)), unsafe(expected), name);
  }
});

test('an archive the check passes unpacks with GNU tar into a fresh directory with no link leading out', async () => {
  const file = craftedArchive('inner-links', [
    { name: 'dist', kind: 'dir' },
    { name: 'dist/index.js', kind: 'file' },
    { name: 'dist/main.js', kind: 'symlink', link: 'index.js' },
    { name: 'up', kind: 'symlink', link: 'dist/../dist' },
    { name: 'twin', kind: 'hardlink', link: 'dist/index.js' },
  ]);
  assert.equal(await checkArchive(file), 5);
  const release = join(root, 'release');
  mkdirSync(release);
  execFileSync('tar', ['-xzf', file, '-C', release, '--no-same-owner']);
  for (const link of ['dist/main.js', 'up']) {
    const target = realpathSync(join(release, link));
    assert.ok(target.startsWith(`${realpathSync(release)}/`), `${link} -> ${target}`);
  }
});

test('a hard link to a symbolic link spelt through `..` or through another link is refused, though GNU tar would unpack it as a link leading out', async () => {
  const deep: Crafted[] = [
    { name: 'a', kind: 'dir' },
    { name: 'a/b', kind: 'dir' },
    { name: 'a/b/s', kind: 'symlink', link: '../../etc' },
  ];
  const cases: Array<[string, Crafted[], RegExp]> = [
    [
      'hard-dotdot-spelling',
      [...deep, { name: 'h', kind: 'hardlink', link: 'a/../a/b/s' }],
      /hard link "h" has "\.\." in its target "a\/\.\.\/a\/b\/s"; hard link targets must name a member directly/,
    ],
    [
      'hard-through-link',
      [...deep, { name: 'l', kind: 'symlink', link: 'a/b' }, { name: 'h', kind: 'hardlink', link: 'l/s' }],
      /hard link "h" points at the symbolic link "a\/b\/s"; an artifact may not hard-link its own links/,
    ],
  ];
  for (const [name, members, expected] of cases) {
    const file = craftedArchive(name, members);
    // What a host's tar makes of it, were it let through: `h` is a copy of `a/b/s`'s text at the top, two levels
    // above `etc`.
    const release = join(root, `${name}-unpacked`, 'release');
    mkdirSync(release, { recursive: true });
    execFileSync('tar', ['-xzf', file, '-C', release, '--no-same-owner'], { stdio: 'ignore' });
    assert.equal(readlinkSync(join(release, 'h')), '../../etc', name);
    await assert.rejects(checkArchive(file), unsafe(expected), name);
  }
});

/** A symbolic link `a` whose target is `inside` by its own header and `/etc` by the extended headers `before` it. */
function twoHeaderArchive(name: string, before: string): string {
  const file = join(root, `${name}.tar.gz`);
  const script = `import sys, gzip
def hdr(name, typ, size=0, link=b''):
    h = bytearray(512); h[0:len(name)] = name
    h[100:108] = b'0000644\\0'; h[108:116] = b'0000000\\0'; h[116:124] = b'0000000\\0'
    h[124:136] = b'%011o\\0' % size; h[136:148] = b'00000000000\\0'
    h[156:157] = typ; h[157:157 + len(link)] = link; h[257:263] = b'ustar\\0'; h[263:265] = b'00'
    h[148:156] = b' ' * 8; h[148:156] = b'%06o\\0 ' % sum(h)
    return bytes(h)
def member(typ, body): return hdr(b'././@x', typ, len(body)) + body + b'\\0' * ((512 - len(body) % 512) % 512)
def pax(kv):
    out = b''
    for k, v in kv:
        rec = b' ' + k + b'=' + v + b'\\n'; n = len(rec) + 1
        while len(rec) + len(str(n)) != n: n += 1
        out += str(n).encode() + rec
    return out
kinds = {'x': member(b'x', pax([(b'linkpath', b'/etc')])), 'K': member(b'K', b'inside\\0'),
         'big': member(b'x', pax([(b'comment', b'c' * 2000000), (b'linkpath', b'/etc')]))}
out = b''.join(kinds[k] for k in sys.argv[2].split(',')) + hdr(b'a', b'2', 0, b'inside') + b'\\0' * 1024
open(sys.argv[1], 'wb').write(gzip.compress(out))`;
  execFileSync('python3', ['-c', script, file, before]);
  return file;
}

test('a link whose target tars read differently from its headers is refused, though GNU tar would unpack it to /etc', async () => {
  const cases: Array<[string, string, RegExp]> = [
    // GNU tar takes the pax linkpath over the GNU long link after it; node-tar the later one.
    [
      'pax-then-long-link',
      'x,K',
      /"a" comes with 2 extended headers \(1 pax, 1 GNU long names\), which tars read differently/,
    ],
    [
      'long-link-then-pax',
      'K,x',
      /"a" comes with 2 extended headers|symbolic link "a" points out of the release \(to "\/etc"\)/,
    ],
    // A pax header larger than the reader's limit is skipped by it, and read by GNU tar.
    ['oversized-pax', 'big', /the archive has an extended header of 2000034 bytes, more than the check reads/],
  ];
  for (const [name, before, expected] of cases) {
    const file = twoHeaderArchive(name, before);
    const release = join(root, `${name}-unpacked`);
    mkdirSync(release);
    execFileSync('tar', ['-xzf', file, '-C', release, '--no-same-owner'], { stdio: 'ignore' });
    assert.equal(readlinkSync(join(release, 'a')), '/etc', name);
    await assert.rejects(checkArchive(file), unsafe(expected), name);
  }
});
