import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ArtifactError } from '../../src/sluice-error.ts';
import { ArtifactStore } from '../../src/artifact/artifact-store.ts';
import { sha256File } from '../../src/artifact/sha256-file.ts';

const CONTENT = Buffer.from('not really a tarball, but bytes are bytes\n'.repeat(5000));
const DIGEST = createHash('sha256').update(CONTENT).digest('hex');

describe('ArtifactStore', () => {
  let root: string;
  let file: string;
  let store: ArtifactStore;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'sluice-store-'));
    file = join(root, 'build.tar.gz');
    await writeFile(file, CONTENT);
    store = new ArtifactStore(join(root, 'data', 'artifacts'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('stores a file under its sha256 and reports digest and size', async () => {
    const stored = await store.put(file);
    assert.deepEqual(stored, {
      sha256: DIGEST,
      size: CONTENT.length,
      path: join(root, 'data', 'artifacts', `${DIGEST}.tar.gz`),
    });
    assert.deepEqual(await readFile(stored.path), CONTENT);
    assert.equal(await store.has(DIGEST), true);
    assert.equal(store.path(DIGEST), stored.path);
  });

  it('stores the same bytes twice as one artifact, leaving no temporary files', async () => {
    const first = await store.put(file);
    const second = await store.put(file);
    assert.deepEqual(second, first);
    assert.deepEqual(await readdir(store.dir), [`${DIGEST}.tar.gz`]);
  });

  it('takes in a file written at one of its incoming paths by renaming it, and refuses any other file', async () => {
    const incoming = await store.incomingPath();
    await writeFile(incoming, CONTENT);
    const stored = await store.adopt(incoming, DIGEST);
    assert.deepEqual(stored, { sha256: DIGEST, size: CONTENT.length, path: store.path(DIGEST) });
    assert.deepEqual(await readFile(stored.path), CONTENT);
    assert.deepEqual(await readdir(store.dir), [`${DIGEST}.tar.gz`]);
    await assert.rejects(store.adopt(file, DIGEST), /is not an incoming path of the artifact store/);
    assert.deepEqual(await readFile(file), CONTENT);
  });

  it('verifies a stored artifact and notices when its bytes changed', async () => {
    await store.put(file);
    assert.equal(await store.verify(DIGEST), true);
    await writeFile(store.path(DIGEST), 'tampered');
    assert.equal(await store.verify(DIGEST), false);
    await store.put(file);
    assert.equal(await store.verify(DIGEST), true, 'putting it again repairs it');
  });

  it('answers no for a digest it does not hold', async () => {
    const unknown = 'f'.repeat(64);
    assert.equal(await store.has(unknown), false);
    assert.equal(await store.verify(unknown), false);
  });

  it('refuses anything that is not a sha256 as a name', () => {
    for (const bad of ['../../etc/passwd', 'ABC', DIGEST.toUpperCase(), `${DIGEST}0`]) {
      assert.throws(
        () => store.path(bad),
        (error: unknown) => error instanceof ArtifactError && error.code === 'INVALID_DIGEST',
      );
    }
  });

  it('fails clearly for a missing file and leaves nothing half-written', async () => {
    await assert.rejects(
      store.put(join(root, 'missing.tar.gz')),
      (error: unknown) =>
        error instanceof ArtifactError && error.code === 'STORE_FAILED' && /missing\.tar\.gz/.test(error.message),
    );
    assert.deepEqual(
      (await readdir(store.dir)).filter((name) => name.startsWith('.')),
      [],
    );
  });

  it('sha256File hashes a file as sha256sum does', async () => {
    assert.equal(await sha256File(file), DIGEST);
  });
});
