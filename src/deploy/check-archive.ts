/**
 * Refuse an artifact that could write outside its release directory when
 * unpacked on a host (PRODUCT S2). Checked here, once, before the artifact
 * is uploaded anywhere, against the archive's own model of the tree it
 * unpacks to: every link is resolved through the links before it (`p -> .`
 * makes `p/p/p` the release itself), so a chain of links cannot climb out
 * where each link alone looks harmless. And since the check refuses every
 * member whose path goes through a link of the archive, and every path
 * given twice, unpacking into a fresh directory writes through no link,
 * whatever tar the host has. The archive is read with node-tar, streamed:
 * a large artifact is never held in memory.
 */
import { posix } from 'node:path';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { ReadEntry } from 'tar';
import { SluiceError, errorMessage } from '../sluice-error.ts';

export class UnsafeArchiveError extends SluiceError<'UNSAFE_ARCHIVE'> {
  constructor(message: string) {
    super('UNSAFE_ARCHIVE', message);
  }
}

const ALLOWED = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link']);
/** As the kernel does, a chain of more links than this is a loop. */
const MAX_LINK_HOPS = 40;

interface Member {
  kind: 'file' | 'directory' | 'symlink' | 'hardlink';
  /** As written in the archive. */
  name: string;
  link?: string;
}

/** Resolves with the number of members; rejects with `UnsafeArchiveError` naming the member. */
export async function checkArchive(file: string): Promise<number> {
  const tree = new Map<string, Member>();
  let members = 0;
  let problem: UnsafeArchiveError | undefined;
  let metas: string[] = [];
  const refuse = (error: unknown) => {
    problem ??= error instanceof UnsafeArchiveError ? error : new UnsafeArchiveError(errorMessage(error));
  };
  // tar is loaded with the first deploy, not at start.
  const { Parser } = await import('tar');
  try {
    const parser = new Parser({
      strict: true,
      onReadEntry: (entry: ReadEntry) => {
        members++;
        try {
          if (!problem) {
            checkHeaders(entry.path, metas);
            addMember(tree, entry);
          }
        } catch (error) {
          refuse(error);
        }
        metas = [];
        entry.resume();
      },
    });
    parser.on('meta', (text: string) => metas.push(text));
    parser.on('ignoredEntry', (entry: ReadEntry) =>
      refuse(
        new UnsafeArchiveError(
          `the archive has an extended header of ${entry.size} bytes, more than the check reads, which a tar on the host would read and follow`,
        ),
      ),
    );
    // 1 MiB reads: the parser (and its gunzip) costs per chunk, ten times more with the default 64 KiB.
    await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), parser);
  } catch (error) {
    if (problem) throw problem;
    const message = errorMessage(error);
    if (/truncated/i.test(message))
      throw new UnsafeArchiveError(`the archive ends in the middle of a member (${message})`);
    throw new UnsafeArchiveError(`the archive cannot be read: ${message}`);
  }
  if (problem) throw problem;
  // A link may point through links that come after it: resolve them all again in the whole tree.
  for (const member of tree.values()) checkLinkTarget(tree, member);
  return members;
}

/**
 * A member's name and link target may come from its own header, a pax
 * header before it, or a GNU long-name header before it; tars differ in
 * which wins when there is more than one (GNU tar takes the pax value over a
 * later GNU one, node-tar the later one), so the check would judge another
 * link than the host unpacks. No tar writes more than one pax header, or a
 * pax header and a GNU long name, for one member, nor more than a long name
 * and a long link: such a member is refused.
 */
function checkHeaders(name: string, metas: readonly string[]): void {
  const pax = metas.filter(isPax).length;
  const gnu = metas.length - pax;
  if (pax > 1 || (pax > 0 && gnu > 0) || gnu > 2) {
    throw new UnsafeArchiveError(
      `"${name}" comes with ${metas.length} extended headers (${pax} pax, ${gnu} GNU long names), which tars read differently; no tar writes that many for one member`,
    );
  }
}

/** Whether a meta header's text is pax records (`<length> <key>=<value>\n`…), not a GNU long name. */
function isPax(text: string): boolean {
  const bytes = Buffer.from(text);
  let at = 0;
  while (at < bytes.length) {
    const record = /^(\d+) [^=\n]+=/.exec(bytes.subarray(at, at + 64).toString('latin1'));
    const length = Number(record?.[1] ?? 0);
    if (!record || length <= 0 || bytes[at + length - 1] !== 0x0a) return false;
    at += length;
  }
  return at > 0;
}

function addMember(tree: Map<string, Member>, entry: ReadEntry): void {
  const name = entry.path;
  if (!ALLOWED.has(entry.type)) {
    const what = ['CharacterDevice', 'BlockDevice', 'FIFO'].includes(entry.type)
      ? 'a device or FIFO'
      : `of the kind ${entry.type}`;
    throw new UnsafeArchiveError(`"${name}" is ${what}, which an artifact may not hold`);
  }
  if (name.startsWith('/'))
    throw new UnsafeArchiveError(`"${name}" is an absolute path; artifact paths must be relative`);
  if (name.split('/').includes('..')) throw new UnsafeArchiveError(`"${name}" climbs out of the release with ".."`);
  const key = normalize(name);
  const kind =
    entry.type === 'Directory'
      ? 'directory'
      : entry.type === 'SymbolicLink'
        ? 'symlink'
        : entry.type === 'Link'
          ? 'hardlink'
          : 'file';
  const member: Member = { kind, name, ...(entry.linkpath !== undefined && { link: entry.linkpath }) };
  if (key === '') {
    if (kind !== 'directory') throw new UnsafeArchiveError(`"${name}" would replace the release directory itself`);
    return;
  }
  const parts = key.split('/');
  for (let i = 1; i < parts.length; i++) {
    const parent = tree.get(parts.slice(0, i).join('/'));
    if (parent?.kind === 'symlink') {
      throw new UnsafeArchiveError(
        `"${name}" is written through the symbolic link "${parent.name}"; an artifact may not put members under its own links`,
      );
    }
    if (parent && parent.kind !== 'directory')
      throw new UnsafeArchiveError(`"${name}" is under "${parent.name}", which is not a directory`);
  }
  const earlier = tree.get(key);
  // Overlapping artifact paths pack a file or directory twice, which is harmless; a link given twice is not.
  if (earlier && !(earlier.kind === kind && (kind === 'directory' || kind === 'file'))) {
    throw new UnsafeArchiveError(`"${name}" is in the archive twice; the second would replace the first`);
  }
  tree.set(key, member);
  checkLinkTarget(tree, member);
}

/** `./a//b/` → `a/b`; the release itself is `''`. */
function normalize(path: string): string {
  return path
    .split('/')
    .filter((part) => part !== '' && part !== '.')
    .join('/');
}

function checkLinkTarget(tree: Map<string, Member>, member: Member): void {
  if (member.kind !== 'symlink' && member.kind !== 'hardlink') return;
  const link = member.link ?? '';
  const what = member.kind === 'symlink' ? 'symbolic link' : 'hard link';
  const outside = new UnsafeArchiveError(`${what} "${member.name}" points out of the release (to "${link}")`);
  if (link === '' || link.startsWith('/')) throw outside;
  // A symbolic link's target is relative to its directory; a hard link's to the archive's root.
  const from = member.kind === 'symlink' ? posix.dirname(normalize(member.name)) : '';
  const start = from === '.' ? [] : from.split('/').filter(Boolean);
  if (resolve(tree, start, link.split('/')) === undefined) throw outside;
  if (member.kind === 'hardlink') checkHardLinkTarget(tree, member.name, link);
}

/**
 * A hard link to a symbolic link makes a second symbolic link with the same
 * text in another directory (link(2) does not follow the last component),
 * where that text may point out of the release. The target is found as
 * link(2) finds it: through the archive's links on the way (`s/sym` with
 * `s -> d` is `d/sym`). A `..` in a hard link's target is refused outright,
 * since tars read it differently (GNU tar cuts everything up to the last
 * `..`, so `a/b/../c` is `c` to it and `a/c` to another).
 */
function checkHardLinkTarget(tree: Map<string, Member>, name: string, link: string): void {
  const parts = link.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.includes('..'))
    throw new UnsafeArchiveError(
      `hard link "${name}" has ".." in its target "${link}"; hard link targets must name a member directly`,
    );
  const last = parts.pop();
  const parent = resolve(tree, [], parts);
  if (last === undefined || parent === undefined) return;
  const target = [...parent, last].join('/');
  if (tree.get(target)?.kind === 'symlink') {
    throw new UnsafeArchiveError(
      `hard link "${name}" points at the symbolic link "${target}"; an artifact may not hard-link its own links`,
    );
  }
}

/**
 * Where `path`, taken from the directory `base`, lands in the release,
 * following the archive's links as the host would; undefined if it leaves
 * the release (or loops). Paths the archive does not hold are taken as
 * plain directories.
 */
function resolve(tree: Map<string, Member>, base: string[], path: string[]): string[] | undefined {
  const at = [...base];
  const queue = [...path];
  let hops = 0;
  while (queue.length > 0) {
    const part = queue.shift() ?? '';
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (at.length === 0) return undefined;
      at.pop();
      continue;
    }
    at.push(part);
    const member = tree.get(at.join('/'));
    if (member?.kind !== 'symlink') continue;
    if (++hops > MAX_LINK_HOPS) return undefined;
    const target = member.link ?? '';
    if (target.startsWith('/')) return undefined;
    at.pop();
    queue.unshift(...target.split('/'));
  }
  return at;
}
