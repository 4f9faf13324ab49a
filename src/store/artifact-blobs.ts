/**
 * Artifacts and downloaded sources kept in the database, so that every
 * replica on one PostgreSQL can deploy what another built (PRODUCT R2, P4).
 * A blob is addressed by its sha256 and kept as chunks of up to 1 MiB;
 * bytes go in and come out one chunk at a time, so memory stays bounded
 * however large the artifact, and every read hashes the bytes as they pass
 * and fails, at its end, unless they are the bytes that were stored.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { ArtifactError, errorMessage } from '../sluice-error.ts';
import type { Db } from './database.ts';
import {
  deleteBlob,
  deleteUnusedBlobs,
  finishBlob,
  insertBlob,
  insertChunk,
  selectBlob,
  selectChunk,
} from './queries/artifact-blobs.ts';

/** The size of a chunk row; large enough that a 50 MiB artifact is 50 queries, small enough to hold two. */
export const BLOB_CHUNK_BYTES = 1024 * 1024;

const DIGEST = /^[0-9a-f]{64}$/;

/** Content-addressed bytes in the shared database. */
export interface ArtifactBlobs {
  /**
   * Streams a local file in as the blob `sha256`, hashing it on the way; in
   * one transaction, so a blob is there whole or not at all. A file whose
   * bytes are not `sha256` is refused and nothing is kept. Storing a digest
   * that is stored already reads nothing and returns false.
   */
  put(file: string, sha256: string, now: number): Promise<boolean>;
  /** Size in bytes of a stored blob, or undefined when there is none. */
  find(sha256: string): Promise<{ size: number } | undefined>;
  /**
   * The blob's bytes as a stream, fetched a chunk at a time; the stream
   * fails (ARTIFACT_CORRUPTED) before it ends unless the bytes hash to
   * `sha256` and have the stored size, and the blob found corrupted is
   * deleted, so that storing its bytes again writes them anew. Undefined
   * when there is no such blob.
   */
  read(sha256: string): Promise<Readable | undefined>;
  /**
   * Deletes the blobs stored before `before` that are not in `keep` and no
   * running execution uses; returns their digests.
   */
  prune(keep: Iterable<string>, before: number): Promise<string[]>;
}

export class PostgresArtifactBlobs implements ArtifactBlobs {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  async put(file: string, sha256: string, now: number): Promise<boolean> {
    checkDigest(sha256);
    return this.#db.transaction().execute(async (trx) => {
      // A second writer of the same digest waits here for the first to commit, then finds it.
      if (!(await insertBlob(trx, { sha256, size: 0, chunks: 0, created_at: now }))) return false;
      const hash = createHash('sha256');
      let size = 0;
      let idx = 0;
      for await (const chunk of createReadStream(file, { highWaterMark: BLOB_CHUNK_BYTES }) as AsyncIterable<Buffer>) {
        hash.update(chunk);
        size += chunk.length;
        await insertChunk(trx, { sha256, idx: idx++, data: chunk });
      }
      const actual = hash.digest('hex');
      if (actual !== sha256) {
        throw new ArtifactError(
          'ARTIFACT_CORRUPTED',
          `${file} changed while it was stored: its bytes are sha256 ${actual}, not ${sha256}; nothing was stored`,
        );
      }
      await finishBlob(trx, sha256, idx, size);
      return true;
    });
  }

  async find(sha256: string): Promise<{ size: number } | undefined> {
    checkDigest(sha256);
    const row = await selectBlob(this.#db, sha256);
    return row && { size: Number(row.size) };
  }

  async read(sha256: string): Promise<Readable | undefined> {
    checkDigest(sha256);
    const blob = await selectBlob(this.#db, sha256);
    if (!blob) return undefined;
    const db = this.#db;
    const hash = createHash('sha256');
    const expectedSize = Number(blob.size);
    let size = 0;
    let idx = 0;
    // A blob found corrupted is deleted: storing the same bytes again (the build retried, packing what it
    // packed before) would otherwise find the digest taken and keep the bad copy, failing every deploy of it.
    const corrupted = async (why: string) => {
      const removed = await deleteBlob(db, sha256).then(
        () => 'and is removed from the database',
        (error: unknown) => `(removing it from the database failed too: ${errorMessage(error)})`,
      );
      return new ArtifactError(
        'ARTIFACT_CORRUPTED',
        `the artifact sha256:${sha256} read from the database is corrupted (${why}), so it is not used ${removed}; build it again (retry its build stage)`,
      );
    };
    const fetch = (i: number) =>
      selectChunk(db, sha256, i).then(
        (data) => ({ data }),
        (error: unknown) => ({ error }),
      );
    // The next chunk is asked for while the reader takes this one: at most two are held, and the
    // database's round trip overlaps the reader's writing.
    let next = blob.chunks > 0 ? fetch(0) : undefined;
    return new Readable({
      highWaterMark: 1,
      async read() {
        try {
          if (idx < blob.chunks) {
            const fetched = await next!;
            if ('error' in fetched) throw fetched.error;
            const data = fetched.data;
            if (!data) throw await corrupted(`chunk ${idx} of ${blob.chunks} is missing`);
            idx++;
            next = idx < blob.chunks ? fetch(idx) : undefined;
            hash.update(data);
            size += data.length;
            this.push(data);
            return;
          }
          if (size !== expectedSize) throw await corrupted(`${size} bytes where ${expectedSize} were stored`);
          const actual = hash.digest('hex');
          if (actual !== sha256) throw await corrupted(`its bytes hash to ${actual}`);
          this.push(null);
        } catch (error) {
          this.destroy(error as Error);
        }
      },
    });
  }

  async prune(keep: Iterable<string>, before: number): Promise<string[]> {
    return deleteUnusedBlobs(this.#db, [...keep], before);
  }
}

function checkDigest(sha256: string): void {
  if (!DIGEST.test(sha256)) {
    throw new ArtifactError('INVALID_DIGEST', `"${sha256}" is not a sha256 digest (64 lowercase hex characters)`);
  }
}
