/**
 * Artifacts kept by content: `<dir>/<sha256>.tar.gz`, where Sluice passes
 * `<dataDir>/artifacts` as the directory. The name
 * is the digest, so a stored artifact can be checked at any time (PRODUCT P4)
 * and storing the same bytes twice is harmless.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { access, mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ArtifactError } from './artifact-error.ts';
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

/** A content-addressed store of artifact tarballs in one directory. */
export class ArtifactStore {
  readonly dir: string;

  /** `dir` is made on the first `put`. */
  constructor(dir: string) {
    this.dir = dir;
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
      return { sha256, size, path };
    } catch (error) {
      await rm(temp, { force: true });
      throw new ArtifactError('STORE_FAILED', `could not store ${file} in ${this.dir}: ${(error as Error).message}`, {
        cause: error,
      });
    }
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
