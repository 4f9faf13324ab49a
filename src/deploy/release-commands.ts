/**
 * Shell text for releases on a host (PRODUCT S2), built from argv so no
 * value is ever pasted into a command unquoted (S7). Pure: the deploy code
 * decides when and where these run; tests compare the exact strings.
 *
 * Layout under an environment's `path`:
 *   releases/<id>/      one unpacked artifact per deploy
 *   releases/<id>/.sluice/app.json   the hooks it was deployed with (release-app.ts)
 *   current -> releases/<id>   (relative; replaced by rename, never missing)
 *   .sluice/incoming/   tarballs on their way in
 */
import { posix } from 'node:path';
import { quoteArg, shellCommand } from '../executor/shell-quote.ts';
import { RELEASE_APP_FILE } from './release-app.ts';

export interface ReleasePaths {
  root: string;
  releases: string;
  current: string;
  incoming: string;
}

export function releasePaths(root: string): ReleasePaths {
  return {
    root,
    releases: posix.join(root, 'releases'),
    current: posix.join(root, 'current'),
    incoming: posix.join(root, '.sluice', 'incoming'),
  };
}

/** Release ids sort by time, so "the newest N" is a sort by name. */
export function releaseId(at: Date, executionSeq: number, sha: string): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${executionSeq}-${sha.slice(0, 7)}`;
}

export function prepareCommand(paths: ReleasePaths): string {
  return shellCommand(['mkdir', '-p', '--', paths.releases, paths.incoming]);
}

/**
 * Unpack into a scratch directory, then rename it into place: a release
 * directory that exists is always complete. The archive was checked before
 * it left Sluice (check-archive.ts): no `../`, no absolute paths, no link
 * that resolves out of the release, no member under one of its own links and
 * no link given twice. So unpacking into this fresh directory writes through
 * no link, whichever tar the host has, and needs no tar-specific flags. The
 * release's app spec (its hooks) arrives on stdin and is written into it.
 */
export function unpackCommand(paths: ReleasePaths, id: string, tarball: string): string {
  const release = posix.join(paths.releases, id);
  const partial = posix.join(paths.incoming, `${id}.partial`);
  const appFile = posix.join(partial, RELEASE_APP_FILE);
  return [
    shellCommand(['rm', '-rf', '--', partial]),
    shellCommand(['mkdir', '-p', '--', partial]),
    shellCommand(['tar', '-xzf', tarball, '-C', partial, '--no-same-owner']),
    shellCommand(['mkdir', '-p', '--', posix.dirname(appFile)]),
    `cat > ${quoteArg(appFile)}`,
    shellCommand(['mv', '-T', '--', partial, release]),
    shellCommand(['rm', '-f', '--', tarball]),
  ].join(' && ');
}

/**
 * Point `current` at a release atomically: a new link renamed over the old
 * one (rename(2)), so `current` always exists and is never half-switched.
 */
export function switchCommand(paths: ReleasePaths, id: string): string {
  const next = posix.join(paths.root, `.current-${id}`);
  return [
    shellCommand(['test', '-d', posix.join(paths.releases, id)]),
    shellCommand(['ln', '-sfn', '--', posix.join('releases', id), next]),
    shellCommand(['mv', '-T', '--', next, paths.current]),
  ].join(' && ');
}

/** Prints the id `current` points at, or nothing on a first deploy. */
export function readCurrentCommand(paths: ReleasePaths): string {
  return `${shellCommand(['readlink', '--', paths.current])} || true`;
}

/**
 * Prints `not-a-link` when `current` exists but is no link (a directory deployed by hand): no rename can replace it.
 */
export function currentNotLinkCommand(paths: ReleasePaths): string {
  const current = quoteArg(paths.current);
  return `if [ -e ${current} ] && [ ! -L ${current} ]; then echo not-a-link; fi`;
}

/** Prints `present` when the release's directory is on the host (a hand may have removed it). */
export function releasePresentCommand(paths: ReleasePaths, id: string): string {
  return `${shellCommand(['test', '-d', posix.join(paths.releases, id)])} && echo present || true`;
}

/** Prints the app spec a release was deployed with; nothing for a release that has none. */
export function readReleaseAppCommand(paths: ReleasePaths, id: string): string {
  return `${shellCommand(['cat', '--', posix.join(paths.releases, id, RELEASE_APP_FILE)])} 2>/dev/null || true`;
}

/** Lists release ids, one per line. */
export function listReleasesCommand(paths: ReleasePaths): string {
  return `${shellCommand(['ls', '-1', '--', paths.releases])} 2>/dev/null || true`;
}

export function removeReleasesCommand(paths: ReleasePaths, ids: string[]): string {
  return shellCommand(['rm', '-rf', '--', ...ids.map((id) => posix.join(paths.releases, id))]);
}

/** The id in a `current` link target such as `releases/2026…-3-abc1234`. */
export function parseCurrent(readlinkOutput: string): string | undefined {
  const target = readlinkOutput.trim();
  if (!target) return undefined;
  return posix.basename(target);
}

/** Releases to delete: all but the newest `keep`, never `current` or `previous`. */
export function releasesToPrune(ids: string[], keep: number, protect: Array<string | undefined>): string[] {
  const sorted = ids.filter((id) => id && !id.startsWith('.')).sort();
  const kept = new Set(sorted.slice(-keep));
  return sorted.filter((id) => !kept.has(id) && !protect.includes(id));
}

/**
 * A health probe over HTTP run on the host itself (the URL is as the host
 * sees it, e.g. http://127.0.0.1:8080/health): curl, or wget where curl is
 * missing.
 */
export function httpProbeCommand(url: string, timeoutSeconds: number): string {
  const t = String(timeoutSeconds);
  return [
    'if command -v curl >/dev/null 2>&1; then',
    shellCommand(['curl', '-fsS', '-o', '/dev/null', '--max-time', t, '--', url]) + ';',
    'else',
    shellCommand(['wget', '-q', '-O', '/dev/null', '-T', t, '--', url]) + ';',
    'fi',
  ].join(' ');
}
