/**
 * Whether a repository (`owner/name`) matches an operator's pattern: an exact
 * name, `owner/*`, or `*`. Case-insensitive, as GitHub names are.
 */
export function matchesRepo(pattern: string, repo: string): boolean {
  const p = pattern.toLowerCase();
  const r = repo.toLowerCase();
  if (p === '*' || p === r) return true;
  if (p.endsWith('/*')) return r.startsWith(p.slice(0, -1)) && !r.slice(p.length - 1).includes('/');
  return false;
}
