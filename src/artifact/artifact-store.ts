/**
 * Artifacts kept by content: `<dir>/<sha256>.tar.gz`, where Sluice passes
 * `<dataDir>/artifacts` as the directory. The name
 * is the digest, so a stored artifact can be checked at any time (PRODUCT P4)
 * and storing the same bytes twice is harmless.
 *
 * With blobs in a shared database (PostgreSQL, PRODUCT R2) the database
 * holds every artifact and the directory is only this process's cache:
 * `put` stores in both, `fetch` fills the cache from the database when it
 * lacks the file, and the directory may be deleted at any time.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { access, copyFile, link, mkdir, open, rename, rm } from 'node:fs/promises';
import type { ArtifactBlobs } from '../store/artifact-blobs.ts';
import { basename, dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ArtifactError, errorMessage } from '../sluice-error.ts';
import { sha256File } from './sha256-file.ts';

/** An artifact as stored. */
export interface StoredArtifact {
  /** Lowercase hex sha256 of the tarball. */
  sha256: string;
  /** Size in bytes. */
  size: number;
  /** Absolute path of the stored tarball. */
  path: string;
}

const DIGEST = /^[0-9a-f]{64}$/;
// Files being written carry this prefix; a crash can leave one behind, never
// a partial file under a digest name.
const INCOMING_PREFIX = '.incoming-';

/** A verified artifact held for one action, whatever happens to the cache meanwhile. */
export interface HeldArtifact {
  /** A file of its own, outside the store's directory, with the verified bytes. */
  path: string;
  /** Removes the file; the action is done with it. */
  release(): Promise<void>;
}

/** A content-addressed store of artifact tarballs in one directory. */
export class ArtifactStore {
  readonly dir: string;
  readonly #blobs: ArtifactBlobs | undefined;

  /** `dir` is made on the first `put`; with `blobs`, it is a cache of what they hold. */
  constructor(dir: string, blobs?: ArtifactBlobs) {
    this.dir = dir;
    this.#blobs = blobs;
  }

  /** Whether what is stored here is shared through the database, so any replica can fetch it. */
  get shared(): boolean {
    return this.#blobs !== undefined;
  }

  /**
   * Copy a file into the store, hashing it on the way. The copy is written
   * to a temporary name, flushed to disk and renamed into place, so its
   * final name only ever holds the complete file.
   */
  async put(file: string): Promise<StoredArtifact> {
    await mkdir(this.dir, { recursive: true });
    const temp = join(this.dir, `${INCOMING_PREFIX}${randomUUID()}`);
    try {
      const hash = createHash('sha256');
      let size = 0;
      const tap = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          hash.update(chunk);
          size += chunk.length;
          callback(null, chunk);
        },
      });
      await pipeline(createReadStream(file), tap, createWriteStream(temp, { flags: 'wx', flush: true }));
      const sha256 = hash.digest('hex');
      const path = this.path(sha256);
      await rename(temp, path);
      await syncDirectory(this.dir);
      if (this.#blobs) await this.#putBlob(path, sha256);
      return { sha256, size, path };
    } catch (error) {
      await rm(temp, { force: true });
      if (error instanceof ArtifactError) throw error;
      throw new ArtifactError('STORE_FAILED', `could not store ${file} in ${this.dir}: ${errorMessage(error)}`, {
        cause: error,
      });
    }
  }

  /**
   * A fresh path in the store's directory to write an artifact to (a
   * download), for `adopt`: a file there is taken in by a rename, not copied
   * and hashed again. Its name is never a digest's, so a crash leaves no
   * partial file under one; the caller removes it when it is not adopted.
   */
  async incomingPath(): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    return join(this.dir, `${INCOMING_PREFIX}${randomUUID()}`);
  }

  /**
   * Take in a file written at an `incomingPath`, whose sha256 the caller has
   * just computed from the file itself: flushed to disk and renamed under its
   * digest, as `put` does, without copying its bytes or hashing them again.
   */
  async adopt(file: string, sha256: string): Promise<StoredArtifact> {
    const path = this.path(sha256);
    if (dirname(file) !== this.dir || !basename(file).startsWith(INCOMING_PREFIX))
      throw new RangeError(`${file} is not an incoming path of the artifact store ${this.dir}`);
    try {
      const handle = await open(file, 'r+');
      let size: number;
      try {
        size = (await handle.stat()).size;
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(file, path);
      await syncDirectory(this.dir);
      if (this.#blobs) await this.#putBlob(path, sha256);
      return { sha256, size, path };
    } catch (error) {
      await rm(file, { force: true });
      if (error instanceof ArtifactError) throw error;
      throw new ArtifactError('STORE_FAILED', `could not store ${file} in ${this.dir}: ${errorMessage(error)}`, {
        cause: error,
      });
    }
  }

  async #putBlob(path: string, sha256: string): Promise<void> {
    try {
      await this.#blobs!.put(path, sha256, Date.now());
    } catch (error) {
      throw new ArtifactError(
        'STORE_FAILED',
        `the database, where other replicas find it, failed as Sluice stored sha256:${sha256} (${errorMessage(error)}); retry the stage once the database is back`,
        { cause: error },
      );
    }
  }

  /**
   * The local path of the artifact, its bytes checked against the digest
   * first. A file missing here (or whose bytes changed) is fetched again
   * from the database, verified as it streams, when there is one. Throws
   * ARTIFACT_MISSING or ARTIFACT_CORRUPTED, saying which, otherwise.
   */
  async fetch(sha256: string): Promise<string> {
    const path = this.path(sha256);
    const present = await this.has(sha256);
    if (present && (await sha256File(path)) === sha256) return path;
    if (!this.#blobs) {
      if (!present)
        throw new ArtifactError('ARTIFACT_MISSING', `sha256:${sha256} is not in the artifact store ${this.dir}`);
      throw new ArtifactError(
        'ARTIFACT_CORRUPTED',
        `the artifact store's file ${path} no longer matches its sha256 ${sha256}, so it is not used`,
      );
    }
    // A cached file whose bytes changed is only a bad copy: the database has the real one.
    if (present) await rm(path, { force: true });
    const source = await this.#blobs.read(sha256);
    if (!source) {
      throw new ArtifactError(
        'ARTIFACT_MISSING',
        `sha256:${sha256} is neither in the database nor in ${this.dir} (retention may have removed it); build it again`,
      );
    }
    await mkdir(this.dir, { recursive: true });
    const temp = join(this.dir, `${INCOMING_PREFIX}${randomUUID()}`);
    try {
      await pipeline(source, createWriteStream(temp, { flags: 'wx', flush: true }));
      await rename(temp, path);
      return path;
    } catch (error) {
      await rm(temp, { force: true });
      if (error instanceof ArtifactError) throw error;
      throw new ArtifactError(
        'STORE_FAILED',
        `could not fetch sha256:${sha256} into ${this.dir}: ${errorMessage(error)}`,
        {
          cause: error,
        },
      );
    }
  }

  /**
   * The verified artifact, as a file of the action's own beside the store's
   * directory (`<dir>.held/`, a hard link, or a copy across filesystems): the
   * directory is a cache that may be deleted at any time, also while a
   * rollout still uploads to its later hosts.
   */
  async hold(sha256: string): Promise<HeldArtifact> {
    const heldDir = join(dirname(this.dir), `${basename(this.dir)}.held`);
    await mkdir(heldDir, { recursive: true });
    const held = join(heldDir, `${randomUUID()}-${sha256}.tar.gz`);
    for (let tries = 0; ; tries++) {
      const path = await this.fetch(sha256);
      try {
        await link(path, held).catch(async (error: NodeJS.ErrnoException) => {
          if (error.code !== 'EXDEV' && error.code !== 'EPERM') throw error;
          await copyFile(path, held);
        });
        break;
      } catch (error) {
        // Deleted between its check and the link: fetch it again, once.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || tries > 0)
          throw new ArtifactError(
            'STORE_FAILED',
            `could not hold sha256:${sha256} in ${heldDir}: ${errorMessage(error)}`,
            {
              cause: error,
            },
          );
      }
    }
    return { path: held, release: () => rm(held, { force: true }) };
  }

  /** Where the artifact with this digest is (or would be) stored. */
  path(sha256: string): string {
    if (!DIGEST.test(sha256)) {
      throw new ArtifactError('INVALID_DIGEST', `"${sha256}" is not a sha256 digest (64 lowercase hex characters)`);
    }
    return join(this.dir, `${sha256}.tar.gz`);
  }

  /** Whether the store holds an artifact with this digest. */
  async has(sha256: string): Promise<boolean> {
    return access(this.path(sha256)).then(
      () => true,
      () => false,
    );
  }

  /** Re-hash a stored artifact: false when it is missing or its bytes changed. */
  async verify(sha256: string): Promise<boolean> {
    if (!(await this.has(sha256))) return false;
    return (await sha256File(this.path(sha256))) === sha256;
  }
}

/** Make the rename itself durable; not every platform can fsync a directory. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  await handle.sync().catch(() => {});
  await handle.close();
}
