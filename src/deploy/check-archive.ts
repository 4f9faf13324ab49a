/**
 * Refuse an artifact that could write outside its release directory when
 * unpacked on a host (PRODUCT S2): members with absolute paths or `..`,
 * links that point out of the release, devices and FIFOs. Checked here,
 * once, before the artifact is uploaded anywhere. Streams the archive: a
 * large artifact is never held in memory.
 */
import { createReadStream } from 'node:fs';
import { posix } from 'node:path';
import { createGunzip } from 'node:zlib';

export class UnsafeArchiveError extends Error {
  readonly code = 'UNSAFE_ARCHIVE';
  constructor(message: string) {
    super(message);
    this.name = 'UnsafeArchiveError';
  }
}

const BLOCK = 512;

/** Resolves with the number of members; rejects with `UnsafeArchiveError` naming the member. */
export async function checkArchive(file: string): Promise<number> {
  const reader = new BlockReader(createReadStream(file, { highWaterMark: 1 << 20 }).pipe(createGunzip({ chunkSize: 1 << 20 })));
  let members = 0;
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax: Record<string, string> = {};
  for (;;) {
    const header = await reader.read(BLOCK);
    if (!header || header.every((b) => b === 0)) return members;
    const type = String.fromCharCode(header[156] ?? 0x30);
    const size = parseOctal(header.subarray(124, 136));
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'L' || type === 'K' || type === 'x') {
      // Metadata members are small; read them.
      const body = await reader.read(padded);
      if (!body) throw new UnsafeArchiveError('the archive ends in the middle of a member');
      const data = body.subarray(0, size);
      if (type === 'L') longName = cString(data);
      else if (type === 'K') longLink = cString(data);
      else pax = parsePax(data);
      continue;
    }
    if (!(await reader.skip(padded))) throw new UnsafeArchiveError('the archive ends in the middle of a member');
    if (type === 'g') continue;

    const prefix = cString(header.subarray(345, 500));
    const name = pax.path ?? longName ?? (prefix ? `${prefix}/${cString(header.subarray(0, 100))}` : cString(header.subarray(0, 100)));
    const link = pax.linkpath ?? longLink ?? cString(header.subarray(157, 257));
    longName = longLink = undefined;
    pax = {};
    members++;
    checkMember(name, type, link);
  }
}

function checkMember(name: string, type: string, link: string): void {
  if (name.startsWith('/')) throw new UnsafeArchiveError(`"${name}" is an absolute path; artifact paths must be relative`);
  if (escapes(name)) throw new UnsafeArchiveError(`"${name}" climbs out of the release with ".."`);
  if (type === '3' || type === '4' || type === '6') {
    throw new UnsafeArchiveError(`"${name}" is a device or FIFO, which an artifact may not hold`);
  }
  if (type === '1' && (link.startsWith('/') || escapes(link))) {
    throw new UnsafeArchiveError(`hard link "${name}" points out of the release (to "${link}")`);
  }
  if (type === '2') {
    const target = posix.normalize(posix.join(posix.dirname(name), link));
    if (link.startsWith('/') || target === '..' || target.startsWith('../')) {
      throw new UnsafeArchiveError(`symbolic link "${name}" points out of the release (to "${link}")`);
    }
  }
}

function escapes(path: string): boolean {
  return path.split('/').includes('..');
}

function cString(bytes: Buffer): string {
  const end = bytes.indexOf(0);
  return bytes.subarray(0, end === -1 ? bytes.length : end).toString('utf8');
}

function parseOctal(bytes: Buffer): number {
  // GNU tar writes sizes over 8 GiB in base-256 with the high bit set.
  if ((bytes[0] ?? 0) & 0x80) throw new UnsafeArchiveError('the archive holds a member larger than 8 GiB');
  const text = cString(bytes).trim();
  return text ? parseInt(text, 8) : 0;
}

function parsePax(data: Buffer): Record<string, string> {
  const records: Record<string, string> = {};
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space === -1) break;
    const length = Number(data.subarray(at, space).toString());
    if (!Number.isInteger(length) || length <= 0) break;
    const record = data.subarray(space + 1, at + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) records[record.slice(0, eq)] = record.slice(eq + 1);
    at += length;
  }
  return records;
}

/** Reads exact byte counts from a stream. */
class BlockReader {
  private buffered: Buffer = Buffer.alloc(0);
  private readonly iterator: AsyncIterator<Buffer>;
  private done = false;

  constructor(stream: AsyncIterable<Buffer>) {
    this.iterator = stream[Symbol.asyncIterator]();
  }

  /** Drop `length` bytes without keeping them; false if the stream ends first. */
  async skip(length: number): Promise<boolean> {
    let left = length;
    while (left > 0) {
      if (this.buffered.length === 0) {
        if (this.done) return false;
        const next = await this.iterator.next();
        if (next.done) {
          this.done = true;
          return false;
        }
        this.buffered = next.value;
      }
      const take = Math.min(left, this.buffered.length);
      this.buffered = this.buffered.subarray(take);
      left -= take;
    }
    return true;
  }

  async read(length: number): Promise<Buffer | undefined> {
    const chunks = [this.buffered];
    let have = this.buffered.length;
    while (have < length && !this.done) {
      const next = await this.iterator.next();
      if (next.done) this.done = true;
      else {
        chunks.push(next.value);
        have += next.value.length;
      }
    }
    const all = Buffer.concat(chunks);
    if (all.length < length) {
      this.buffered = all;
      return undefined;
    }
    this.buffered = all.subarray(length);
    return all.subarray(0, length);
  }
}
