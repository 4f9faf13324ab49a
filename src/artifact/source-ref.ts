/**
 * Where an execution's source comes from, as kept in `executions.source`: a
 * local tarball, or (with PostgreSQL) the sha256 of a tarball in the shared
 * database that any replica can fetch, and how many leading path parts its
 * members carry before the repository's own (GitHub's tarballs put
 * everything under `owner-repo-sha/`; `sluice run` packs none).
 */
import { StoreError } from '../store/store.ts';

export type SourceRef = { file: string; strip: number } | { sha256: string; strip: number };

export function formatSource(ref: SourceRef): string {
  return 'file' in ref && ref.strip === 0 ? ref.file : JSON.stringify(ref);
}

/** A plain path (older executions, `sluice run`) or the JSON `formatSource` wrote. */
export function parseSource(text: string): SourceRef {
  if (!text.startsWith('{')) return { file: text, strip: 0 };
  const ref = readJson(text) as { file?: unknown; sha256?: unknown; strip?: unknown } | undefined;
  if (typeof ref?.strip === 'number') {
    if (typeof ref.file === 'string') return { file: ref.file, strip: ref.strip };
    if (typeof ref.sha256 === 'string') return { sha256: ref.sha256, strip: ref.strip };
  }
  throw new StoreError(
    'CORRUPT_ROW',
    `Unreadable source reference: ${text}. The execution's row in the store is damaged: restore it from a backup`,
  );
}

/** The JSON of `text`; undefined when it is not JSON, refused as any other reference Sluice did not write. */
function readJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
