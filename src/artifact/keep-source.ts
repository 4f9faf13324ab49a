/**
 * A downloaded source, kept where every replica finds it: with a shared
 * store (PostgreSQL) the tarball goes into the database by its sha256 and
 * the execution names the digest, so a replica other than the one that
 * received the push can build it (PRODUCT R2). Without one, the execution
 * names the local file, as it always has.
 */
import { rm } from 'node:fs/promises';
import { ArtifactError } from '../sluice-error.ts';
import type { ArtifactStore } from './artifact-store.ts';
import { formatSource, parseSource } from './source-ref.ts';

/** The source reference to record for the tarball `source` names. */
export async function keepSource(sources: ArtifactStore | undefined, source: string): Promise<string> {
  const ref = parseSource(source);
  if (!sources?.shared || !('file' in ref)) return source;
  try {
    const stored = await sources.put(ref.file);
    return formatSource({ sha256: stored.sha256, strip: ref.strip });
  } finally {
    // The store has its own copy under the digest.
    await rm(ref.file, { force: true });
  }
}

/**
 * The local tarball of a source reference, fetched (and verified) from the
 * database when it names a digest, and then held as the action's own file
 * (the sources directory is a cache that may be deleted meanwhile);
 * `release` removes what was held.
 */
export async function localSource(
  sources: ArtifactStore | undefined,
  source: string,
): Promise<{ file: string; strip: number; release(): Promise<void> }> {
  const ref = parseSource(source);
  if ('file' in ref) return { ...ref, release: () => Promise.resolve() };
  if (!sources)
    throw new ArtifactError(
      'ARTIFACT_MISSING',
      `the source sha256:${ref.sha256} is kept in a database this process does not use: run it on the Sluice that received the push, or on one with the same DATABASE_URL`,
    );
  const held = await sources.hold(ref.sha256);
  return { file: held.path, strip: ref.strip, release: held.release };
}
