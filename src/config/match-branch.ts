/**
 * Branch patterns of `on.push.branches`, with GitHub Actions' filter
 * syntax. They are matched by walking the pattern and the branch together,
 * tracking every place in the pattern the branch could have reached so far,
 * instead of through a backtracking regular expression: a push cannot hand
 * Sluice a pattern and branch that take longer than pattern length × branch
 * length steps, however many `**` the pattern holds (a regex built from
 * `**a**a**a…` freezes the whole process on a 50-character branch).
 */
import { SluiceError } from '../sluice-error.ts';

/** Longer patterns are refused: no branch naming scheme needs them and each costs time per push. */
export const MAX_BRANCH_PATTERN_LENGTH = 256;

/** No branch naming scheme needs more patterns than these, and each costs time per push. */
export const MAX_BRANCH_PATTERNS = 100;
export const MAX_BRANCH_PATTERNS_LENGTH = 4096;

interface Token {
  /** Whether the token consumes this character (one code point). */
  matches: (char: string) => boolean;
  /** `*`, `**` and a character followed by `+` may consume more than one character. */
  repeats: boolean;
  /** `*` and `**` may consume none, as may a character followed by `?`. */
  optional: boolean;
}

/** A pattern Sluice cannot read, with what is wrong with it. */
export class BranchPatternError extends SluiceError<'INVALID_BRANCH_PATTERN'> {
  constructor(message: string) {
    super('INVALID_BRANCH_PATTERN', message);
  }
}

/**
 * Parse a pattern. `*` matches any run of characters but `/`, `**` any run,
 * `?` makes the character before it optional, `+` lets it repeat (one or
 * more), `[a-z0-9_]` matches one character of the set, `\` makes the next
 * character literal; a leading `!` is handled by `isPipelineBranch`.
 * Everything else matches itself. The pattern is read by code point, as the
 * branch is, so an emoji is one character in both.
 */
export function parseBranchPattern(pattern: string): Token[] {
  if (pattern.length > MAX_BRANCH_PATTERN_LENGTH) {
    throw new BranchPatternError(
      `is ${pattern.length} characters long; a branch pattern may have at most ${MAX_BRANCH_PATTERN_LENGTH}`,
    );
  }
  const chars = [...pattern];
  const tokens: Token[] = [];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] ?? '';
    if (c === '*') {
      const globstar = chars[i + 1] === '*';
      if (globstar) i++;
      tokens.push({ matches: globstar ? () => true : (char) => char !== '/', repeats: true, optional: true });
    } else if (c === '?' || c === '+') {
      const previous = tokens.at(-1);
      const what = c === '?' ? 'makes the character before it optional' : 'repeats the character before it';
      if (!previous) throw new BranchPatternError(`starts with ${c}, which ${what}; write \\${c} for a literal ${c}`);
      if (c === '?') previous.optional = true;
      else previous.repeats = true;
    } else if (c === '[') {
      const close = chars.indexOf(']', i + 2);
      if (close === -1)
        throw new BranchPatternError(`has a [ at character ${i + 1} without a closing ]; write \\[ for a literal [`);
      tokens.push({ matches: characterSet(chars.slice(i + 1, close)), repeats: false, optional: false });
      i = close;
    } else {
      const literal = c === '\\' && i + 1 < chars.length ? (chars[++i] ?? '') : c;
      tokens.push({ matches: (char) => char === literal, repeats: false, optional: false });
    }
  }
  return tokens;
}

/** `a-z0-9_` (as code points) → a test for one character. */
function characterSet(body: readonly string[]): (char: string) => boolean {
  const ranges: Array<[number, number]> = [];
  const code = (char: string | undefined) => char?.codePointAt(0) ?? -1;
  for (let i = 0; i < body.length; i++) {
    const from = body[i] ?? '';
    if (body[i + 1] === '-' && i + 2 < body.length) {
      const to = body[i + 2] ?? '';
      if (code(to) < code(from))
        throw new BranchPatternError(`has the range [${from}-${to}], whose end comes before its start`);
      ranges.push([code(from), code(to)]);
      i += 2;
    } else ranges.push([code(from), code(from)]);
  }
  return (char) => ranges.some(([from, to]) => code(char) >= from && code(char) <= to);
}

/** Whether a branch matches one pattern (without a leading `!`). */
export function matchesBranch(pattern: string, branch: string): boolean {
  const tokens = parseBranchPattern(pattern);
  // active[i]: the branch read so far can end just before token i.
  let active = new Uint8Array(tokens.length + 1);
  active[0] = 1;
  skipOptional(tokens, active);
  for (const char of branch) {
    const next = new Uint8Array(tokens.length + 1);
    let any = false;
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i];
      if (!active[i] || !token?.matches(char)) continue;
      next[i + 1] = 1;
      if (token.repeats) next[i] = 1;
      any = true;
    }
    if (!any) return false;
    skipOptional(tokens, next);
    active = next;
  }
  return active[tokens.length] === 1;
}

/** Mark the places reached by skipping optional tokens: one pass, in order. */
function skipOptional(tokens: readonly Token[], active: Uint8Array): void {
  for (let i = 0; i < tokens.length; i++) {
    if (active[i] && tokens[i]?.optional) active[i + 1] = 1;
  }
}

/**
 * The branches a pipeline runs for: its `on.push.branches`, or the default
 * branch. As on GitHub, a pattern starting with `!` excludes what the
 * patterns before it included, and the last pattern that matches decides.
 */
export function isPipelineBranch(
  patterns: readonly string[] | undefined,
  branch: string,
  defaultBranch: string,
): boolean {
  if (!patterns) return branch === defaultBranch;
  let included = false;
  for (const pattern of patterns) {
    const negated = pattern.startsWith('!');
    if (matchesBranch(negated ? pattern.slice(1) : pattern, branch)) included = !negated;
  }
  return included;
}

/** What is wrong with one pattern (a leading `!` allowed), for the pipeline check; undefined when nothing is. */
export function branchPatternProblem(pattern: string): string | undefined {
  try {
    parseBranchPattern(pattern.startsWith('!') ? pattern.slice(1) : pattern);
    return undefined;
  } catch (error) {
    if (error instanceof BranchPatternError)
      return `branch pattern "${pattern.slice(0, 40)}${pattern.length > 40 ? '…' : ''}" ${error.message}`;
    throw error;
  }
}
