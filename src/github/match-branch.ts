/**
 * Whether a branch matches a pattern of `on.push.branches`: `*` matches
 * within one path part (`release/*`), `**` across parts; everything else is
 * literal.
 */
export function matchesBranch(pattern: string, branch: string): boolean {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? '';
    if (c === '*' && pattern[i + 1] === '*') {
      source += '.*';
      i++;
    } else if (c === '*') source += '[^/]*';
    else source += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`).test(branch);
}

/** The branches a pipeline runs for: its `on.push.branches`, or the default branch. */
export function isPipelineBranch(patterns: readonly string[] | undefined, branch: string, defaultBranch: string): boolean {
  if (!patterns) return branch === defaultBranch;
  return patterns.some((pattern) => matchesBranch(pattern, branch));
}
