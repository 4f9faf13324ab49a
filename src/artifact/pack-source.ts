/**
 * The source a build starts from: the working tree of a checkout as git
 * sees it. Uncommitted edits and new files are included (so `sluice run`
 * builds what is on disk), ignored files and `.git` are not.
 */
import { spawn } from 'node:child_process';
import { lstat, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { ArtifactError, errorMessage } from '../sluice-error.ts';
import { gzipStream, streamCompresses } from './gzip-stored.ts';
import { assertGitCheckout, runGit } from './run-git.ts';

export { readRevision } from './read-revision.ts';

export interface PackSourceOptions {
  /**
   * Paths left out with everything under them, e.g. Sluice's data directory
   * when it lives inside the checkout and is not git-ignored.
   */
  exclude?: string[];
}

/**
 * Write a tar.gz of the files `git ls-files --cached --others
 * --exclude-standard` lists in `checkoutDir`, with paths relative to it.
 * Tracked files deleted from disk are skipped. Submodules appear as empty
 * directories: their content is not packed. The tarball is gzipped at
 * gzip's fastest level when a sample of it compresses and made a gzip file
 * of stored blocks when it does not (gzip-stored.ts): a checkout of large
 * random or already compressed files is not compressed for nothing, and
 * the source is a tar.gz either way. The sample is taken before anything is
 * written, as on a build host (collect-artifact.ts): tar streams the files
 * once counted, once sampled and once into `outFile`, so no room is needed
 * beside the source for a plain tarball. A file changing between the
 * passes can only change whether the source is gzipped: what is written is
 * the last stream, whole.
 */
export async function packSource(checkoutDir: string, outFile: string, options: PackSourceOptions = {}): Promise<void> {
  await assertGitCheckout(checkoutDir);
  const target = resolve(outFile);
  // The archive being written inside the checkout must not pack itself.
  const excluded = [target, ...(options.exclude ?? []).map((path) => resolve(path))];
  const listed = await runGit(checkoutDir, ['ls-files', '-z', '--cached', '--others', '--exclude-standard']);
  const listedNames = splitNul(listed);
  const names = await existingFiles(checkoutDir, listedNames, [
    ...excluded,
    ...sluiceDataDirs(checkoutDir, listedNames),
  ]);
  const list = Buffer.concat(names.flatMap((name) => [name, Buffer.from([0])]));
  try {
    const size = await streamTar(checkoutDir, list, async (tarball) => {
      let bytes = 0;
      for await (const chunk of tarball) bytes += (chunk as Buffer).length;
      return bytes;
    });
    const compress = await streamTar(checkoutDir, list, (tarball) => streamCompresses(size, tarball));
    await streamTar(checkoutDir, list, (tarball) => gzipStream(tarball, target, { compress }));
  } catch (error) {
    await rm(target, { force: true });
    throw new ArtifactError('PACK_FAILED', `could not pack the source of ${checkoutDir}: ${errorMessage(error)}`, {
      cause: error,
    });
  }
}

/**
 * Directories that hold a Sluice data directory (its `sluice.lock` beside
 * `sluice.db`), wherever they are: a database, artifacts and sources from
 * an earlier run never belong in a build's source, git-ignored or not.
 */
function sluiceDataDirs(checkoutDir: string, names: Buffer[]): string[] {
  const files = new Set(names.map((name) => name.toString('utf8')));
  const dirs: string[] = [];
  for (const file of files) {
    if (file !== 'sluice.db' && !file.endsWith('/sluice.db')) continue;
    const dir = file.slice(0, -'sluice.db'.length);
    if (files.has(`${dir}sluice.lock`)) dirs.push(resolve(checkoutDir, dir || '.'));
  }
  return dirs;
}

/** Names stay bytes: git paths need not be valid UTF-8. */
function splitNul(data: Buffer): Buffer[] {
  const names: Buffer[] = [];
  let start = 0;
  for (let end = data.indexOf(0); end !== -1; end = data.indexOf(0, start)) {
    if (end > start) names.push(data.subarray(start, end));
    start = end + 1;
  }
  return names;
}

async function existingFiles(dir: string, names: Buffer[], excluded: string[]): Promise<Buffer[]> {
  const seen = new Set<string>();
  const kept: Buffer[] = [];
  const prefix = Buffer.from(`${resolve(dir)}/`);
  for (const name of names) {
    const key = name.toString('latin1');
    // Unmerged paths are listed once per stage.
    if (seen.has(key)) continue;
    seen.add(key);
    const full = Buffer.concat([prefix, name]);
    const path = full.toString('utf8');
    if (excluded.some((skip) => path === skip || path.startsWith(`${skip}/`))) continue;
    if (
      await lstat(full).then(
        () => true,
        () => false,
      )
    )
      kept.push(name);
  }
  return kept;
}

/**
 * Runs tar over the NUL-separated names, the tarball on its stdout handed
 * to `read`; resolves with what `read` gives once tar has exited well. When
 * `read` fails, its error is the one thrown (tar then dies of the closed pipe).
 */
async function streamTar<T>(cwd: string, nulList: Buffer, read: (tarball: Readable) => Promise<T>): Promise<T> {
  // --null: names are read verbatim (a file called `-rf` is a file).
  // --no-recursion: exactly the listed entries, not whole directories.
  const tar = spawn('tar', ['-cf', '-', '--null', '--no-recursion', '-T', '-'], {
    cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  tar.stderr.setEncoding('utf8');
  tar.stderr.on('data', (chunk: string) => (stderr += chunk));
  tar.stdin.on('error', () => {});
  const exited = new Promise<void>((resolvePromise, reject) => {
    tar.on('error', reject);
    tar.on('close', (code, signal) => {
      if (code === 0) resolvePromise();
      else {
        const how = signal === null ? `exited with code ${code}` : `was killed by ${signal}`;
        reject(new Error(`tar ${how}: ${stderr.trim()}`));
      }
    });
  });
  tar.stdin.end(nulList);
  const reading = read(tar.stdout).catch((error: unknown) => {
    tar.kill();
    throw error;
  });
  const [result, status] = await Promise.allSettled([reading, exited]);
  if (result.status === 'rejected') throw result.reason;
  if (status.status === 'rejected') throw status.reason;
  return result.value;
}
