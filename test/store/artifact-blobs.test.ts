/**
 * Artifacts in PostgreSQL (PRODUCT R2, P4), on a real server: bytes go in
 * and come out a chunk at a time, a chunk whose bytes changed in the
 * database is refused when read (and nothing of it lands in a cache) and
 * stored anew by the next build of the same bytes, and
 * a second data directory fetches what the first stored.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createWriteStream, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { ArtifactError } from '../../src/sluice-error.ts';
import { ArtifactStore } from '../../src/artifact/artifact-store.ts';
import { sha256File } from '../../src/artifact/sha256-file.ts';
import { BLOB_CHUNK_BYTES } from '../../src/store/artifact-blobs.ts';
import type { Store } from '../../src/store/store.ts';
import { startPostgresStore, type PostgresStore } from '../helpers/postgres-store.ts';

const MIB = 1024 * 1024;

let bed: PostgresStore | undefined;
let store: Store;
let db: pg.Client;
let dir = '';

before(async () => ({ store, db, dir } = bed = await startPostgresStore('sluice-blobs-', 'unused')));
after(() => bed?.stop());

/** A file of `mib` MiB of bytes that differ per MiB, written a MiB at a time. */
async function makeFile(name: string, mib: number): Promise<string> {
  const file = join(dir, name);
  await pipeline(
    (function* () {
      for (let i = 0; i < mib; i++)
        yield createHash('sha512')
          .update(`${name} ${i}`)
          .digest()
          .toString('hex')
          .repeat(MIB / 128);
    })(),
    createWriteStream(file),
  );
  return file;
}

describe('artifacts in PostgreSQL', { timeout: 120_000 }, () => {
  it('a second data directory fetches what the first stored, and fetches it again once its cache is deleted', async () => {
    const file = await makeFile('app.tar.gz', 3);
    const builder = new ArtifactStore(join(dir, 'a', 'artifacts'), store.blobs);
    const deployer = new ArtifactStore(join(dir, 'b', 'artifacts'), store.blobs);
    const stored = await builder.put(file);
    assert.equal(builder.shared, true);

    const fetched = await deployer.fetch(stored.sha256);
    assert.equal(fetched, join(dir, 'b', 'artifacts', `${stored.sha256}.tar.gz`));
    assert.equal(await sha256File(fetched), stored.sha256);

    rmSync(join(dir, 'b'), { recursive: true });
    assert.equal(await sha256File(await deployer.fetch(stored.sha256)), stored.sha256);
    assert.equal(await store.blobs!.put(file, stored.sha256, Date.now()), false, 'the same bytes are stored once');
  });

  it('refuses a blob whose chunk changed in the database, and leaves nothing in the cache', async () => {
    const file = await makeFile('corrupt.tar.gz', 3);
    const stored = await new ArtifactStore(join(dir, 'c', 'artifacts'), store.blobs).put(file);
    await db.query(
      "UPDATE artifact_blob_chunks SET data = overlay(data placing '\\x00'::bytea from 100) WHERE sha256 = $1 AND idx = 1",
      [stored.sha256],
    );

    const reader = new ArtifactStore(join(dir, 'd', 'artifacts'), store.blobs);
    await assert.rejects(reader.fetch(stored.sha256), (error) => {
      assert.ok(error instanceof ArtifactError);
      assert.equal(error.code, 'ARTIFACT_CORRUPTED');
      assert.match(
        error.message,
        new RegExp(
          `^the artifact sha256:${stored.sha256} read from the database is corrupted \\(its bytes hash to [0-9a-f]{64}\\), so it is not used and is removed from the database; build it again`,
        ),
      );
      return true;
    });
    assert.deepEqual(readdirSync(reader.dir), [], 'no file under the digest, no temporary one');

    await new ArtifactStore(join(dir, 'c2', 'artifacts'), store.blobs).put(file);
    await db.query('DELETE FROM artifact_blob_chunks WHERE sha256 = $1 AND idx = 2', [stored.sha256]);
    await assert.rejects(reader.fetch(stored.sha256), /is corrupted \(chunk 2 of 3 is missing\)/);
  });

  it('a build of the same bytes after a corrupted read stores them again, and the deploy that failed then succeeds', async () => {
    const file = await makeFile('rebuilt.tar.gz', 2);
    const builder = new ArtifactStore(join(dir, 'e', 'artifacts'), store.blobs);
    const deployer = new ArtifactStore(join(dir, 'f', 'artifacts'), store.blobs);
    const stored = await builder.put(file);
    await db.query(
      "UPDATE artifact_blob_chunks SET data = overlay(data placing '\\x00'::bytea from 10) WHERE sha256 = $1 AND idx = 0",
      [stored.sha256],
    );
    await assert.rejects(deployer.fetch(stored.sha256), /is corrupted .*build it again/);

    // What the message asks for: the build runs again and packs the same bytes (a reproducible build, a source
    // downloaded again), on this replica or another.
    assert.equal((await builder.put(file)).sha256, stored.sha256);
    assert.equal(await sha256File(await deployer.fetch(stored.sha256)), stored.sha256);
  });

  it('refuses to store a file whose bytes are not the digest it is stored under, and keeps nothing of it', async () => {
    const file = join(dir, 'small.tar.gz');
    writeFileSync(file, 'these bytes');
    const wrong = createHash('sha256').update('other bytes').digest('hex');
    await assert.rejects(store.blobs!.put(file, wrong, Date.now()), /changed while it was stored.*nothing was stored/);
    assert.equal(await store.blobs!.find(wrong), undefined);
    const { rows } = await db.query('SELECT count(*)::int AS n FROM artifact_blob_chunks WHERE sha256 = $1', [wrong]);
    assert.equal(rows[0].n, 0);
  });

  it('streams a 50 MiB artifact in and out a chunk at a time, never holding more than one', async () => {
    const file = await makeFile('big.tar.gz', 50);
    const sha256 = await sha256File(file);
    assert.equal(await store.blobs!.put(file, sha256, Date.now()), true);
    const { rows } = await db.query(
      'SELECT count(*)::int AS n, max(length(data))::int AS largest FROM artifact_blob_chunks WHERE sha256 = $1',
      [sha256],
    );
    assert.deepEqual(rows[0], { n: 50, largest: BLOB_CHUNK_BYTES });

    const stream = (await store.blobs!.read(sha256))!;
    const hash = createHash('sha256');
    let bytes = 0;
    let mostBuffered = 0;
    await pipeline(
      stream,
      new Writable({
        // Nothing is kept here: each chunk is hashed and dropped.
        highWaterMark: 1,
        write(chunk: Buffer, _encoding, done) {
          mostBuffered = Math.max(mostBuffered, stream.readableLength);
          assert.ok(chunk.length <= BLOB_CHUNK_BYTES, `a chunk of ${chunk.length} bytes`);
          hash.update(chunk);
          bytes += chunk.length;
          done();
        },
      }),
    );
    assert.equal(bytes, 50 * MIB);
    assert.equal(hash.digest('hex'), sha256);
    assert.ok(mostBuffered <= BLOB_CHUNK_BYTES, `the stream buffered ${mostBuffered} bytes ahead of its reader`);
  });
});
