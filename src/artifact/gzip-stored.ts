/**
 * Tarballs that do not compress, made gzip files all the same: deflate's
 * stored blocks (zlib level 0) wrap the bytes as they are, at the cost of a
 * copy and a CRC, so every artifact and source stays a `.tar.gz` that the
 * deploy, the archive check and `tar -xzf` on any host read as before.
 * Whether a tarball compresses is judged from a sample of it, taken the same
 * way on a host (in shell, collect-artifact.ts) and here.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { constants, createGzip, deflateRawSync } from 'node:zlib';

/** The sample: this many slices, spread evenly over the tarball (all of it when it is no larger). */
export const SAMPLE_SLICES = 16;
export const SAMPLE_SLICE_BYTES = 64 * 1024;

/**
 * A tarball is compressed when gzip's fastest level shrinks its sample by
 * at least a tenth: real artifacts (code, text, most binaries) shrink far
 * more, random or already-compressed bytes (media, archives) do not shrink at all.
 */
export function shrinksEnough(sampleBytes: number, packedBytes: number): boolean {
  return packedBytes * 10 < sampleBytes * 9;
}

/** Whether the file at `path` compresses, by its sample, as the host's pack command judges it. */
export async function compresses(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const size = (await handle.stat()).size;
    const blocks = Math.floor(size / SAMPLE_SLICE_BYTES);
    const slices: Buffer[] = [];
    if (blocks <= SAMPLE_SLICES) {
      const whole = Buffer.alloc(size);
      await handle.read(whole, 0, size, 0);
      slices.push(whole);
    } else {
      for (let i = 0; i < SAMPLE_SLICES; i++) {
        const slice = Buffer.alloc(SAMPLE_SLICE_BYTES);
        const at = Math.floor((i * blocks) / SAMPLE_SLICES) * SAMPLE_SLICE_BYTES;
        const { bytesRead } = await handle.read(slice, 0, SAMPLE_SLICE_BYTES, at);
        slices.push(slice.subarray(0, bytesRead));
      }
    }
    const sample = Buffer.concat(slices);
    return shrinksEnough(sample.length, deflateRawSync(sample, { level: 1 }).length);
  } finally {
    await handle.close();
  }
}

/**
 * Writes `source` into `target` as a gzip file of stored
 * blocks, or at gzip's fastest level with `compress`, in one read. Resolves
 * with the sha256 of what it read and of what it wrote.
 */
export async function gzipFile(
  source: string,
  target: string,
  options: { compress?: boolean } = {},
): Promise<{ sourceSha256: string; sha256: string }> {
  const read = createHash('sha256');
  const written = createHash('sha256');
  await pipeline(
    createReadStream(source, { highWaterMark: 1 << 20 }),
    hashing(read),
    createGzip({ level: options.compress ? 1 : constants.Z_NO_COMPRESSION, chunkSize: 1 << 20 }),
    hashing(written),
    createWriteStream(target),
  );
  return { sourceSha256: read.digest('hex'), sha256: written.digest('hex') };
}

function hashing(hash: Hash) {
  return async function* (chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of chunks) {
      hash.update(chunk);
      yield chunk;
    }
  };
}
