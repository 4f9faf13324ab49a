/**
 * Where an execution's source comes from, as kept in `executions.source`: a
 * local tarball, or (with PostgreSQL) the sha256 of a tarball in the shared
 * database that any replica can fetch, and how many leading path parts its
 * members carry before the repository's own (GitHub's tarballs put
 * everything under `owner-repo-sha/`; `sluice run` packs none).
 */
export type SourceRef = { file: string; strip: number } | { sha256: string; strip: number };

export function formatSource(ref: SourceRef): string {
  return 'file' in ref && ref.strip === 0 ? ref.file : JSON.stringify(ref);
}

/** A plain path (older executions, `sluice run`) or the JSON `formatSource` wrote. */
export function parseSource(text: string): SourceRef {
  if (!text.startsWith('{')) return { file: text, strip: 0 };
  const ref = JSON.parse(text) as { file?: unknown; sha256?: unknown; strip?: unknown };
  if (typeof ref.strip === 'number') {
    if (typeof ref.file === 'string') return { file: ref.file, strip: ref.strip };
    if (typeof ref.sha256 === 'string') return { sha256: ref.sha256, strip: ref.strip };
  }
  throw new Error(`Unreadable source reference: ${text}`);
}
