/**
 * Where an execution's source comes from, as kept in `executions.source`: a
 * local tarball and how many leading path parts its members carry before
 * the repository's own (GitHub's tarballs put everything under
 * `owner-repo-sha/`; `sluice run` packs none).
 */
export interface SourceRef {
  file: string;
  strip: number;
}

export function formatSource(ref: SourceRef): string {
  return ref.strip === 0 ? ref.file : JSON.stringify(ref);
}

/** A plain path (older executions, `sluice run`) or the JSON `formatSource` wrote. */
export function parseSource(text: string): SourceRef {
  if (!text.startsWith('{')) return { file: text, strip: 0 };
  const ref = JSON.parse(text) as Partial<SourceRef>;
  if (typeof ref.file !== 'string' || typeof ref.strip !== 'number')
    throw new Error(`Unreadable source reference: ${text}`);
  return { file: ref.file, strip: ref.strip };
}
