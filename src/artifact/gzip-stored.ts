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
import type { Readable } from 'node:stream';
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

/**
 * Where the sample lies in a tarball of `size` bytes, each slice as
 * `[start, end)`: the whole of it when it is no larger than the sample,
 * else slice i at block `i * blocks / 16`, as the host's pack command cuts
 * it. The sample judges by what is at those places only: a tarball of
 * random bytes there and zeros elsewhere is kept plain, although it would
 * gzip to a sixteenth. Anyone who can choose those bytes can as well ship
 * random bytes throughout; the cost, a larger artifact, falls on their
 * own build and storage.
 */
function sampleSlices(size: number): Array<[number, number]> {
  const blocks = Math.floor(size / SAMPLE_SLICE_BYTES);
  if (blocks <= SAMPLE_SLICES) return [[0, size]];
  return Array.from({ length: SAMPLE_SLICES }, (_, i): [number, number] => {
    const at = Math.floor((i * blocks) / SAMPLE_SLICES) * SAMPLE_SLICE_BYTES;
    return [at, at + SAMPLE_SLICE_BYTES];
  });
}

/** Whether the file at `path` compresses, by its sample, as the host's pack command judges it. */
export async function compresses(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const slices: Buffer[] = [];
    for (const [start, end] of sampleSlices((await handle.stat()).size)) {
      const slice = Buffer.alloc(end - start);
      const { bytesRead } = await handle.read(slice, 0, slice.length, start);
      slices.push(slice.subarray(0, bytesRead));
    }
    return sampleShrinks(slices);
  } finally {
    await handle.close();
  }
}

/**
 * Whether a tarball of `size` bytes compresses, by its sample taken from
 * `tarball` as it streams by: nothing of it is kept but the sample, and it
 * is read to its end. Bytes past `size` (a file grown since it was
 * counted) are not sampled.
 */
export async function streamCompresses(size: number, tarball: AsyncIterable<Buffer>): Promise<boolean> {
  const places = sampleSlices(size);
  const slices: Buffer[] = [];
  let at = 0;
  for await (const chunk of tarball) {
    for (const [start, end] of places) {
      const from = Math.max(start, at);
      const to = Math.min(end, at + chunk.length);
      if (from < to) slices.push(chunk.subarray(from - at, to - at));
    }
    at += chunk.length;
  }
  return sampleShrinks(slices);
}

function sampleShrinks(slices: Buffer[]): boolean {
  const sample = Buffer.concat(slices);
  return shrinksEnough(sample.length, deflateRawSync(sample, { level: 1 }).length);
}

/**
 * Writes `source` into `target` as a gzip file of stored
 * blocks, or at gzip's fastest level with `compress`, in one read. Resolves
 * with the sha256 of what it read and of what it wrote.
 */
export function gzipFile(
  source: string,
  target: string,
  options: { compress?: boolean } = {},
): Promise<{ sourceSha256: string; sha256: string }> {
  return gzipStream(createReadStream(source, { highWaterMark: 1 << 20 }), target, options);
}

/** As gzipFile, with the bytes read from a stream. */
export async function gzipStream(
  source: Readable,
  target: string,
  options: { compress?: boolean } = {},
): Promise<{ sourceSha256: string; sha256: string }> {
  const read = createHash('sha256');
  const written = createHash('sha256');
  await pipeline(
    source,
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
