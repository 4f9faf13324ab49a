/**
 * Branch patterns (on.push.branches) with GitHub Actions' filter syntax,
 * matched in time bounded by pattern × branch length: the patterns built to
 * make a backtracking matcher take seconds get the right answer beside the
 * ordinary ones.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  branchPatternProblem,
  isPipelineBranch,
  matchesBranch,
  MAX_BRANCH_PATTERN_LENGTH,
} from '../../src/config/match-branch.ts';

describe('matchesBranch', () => {
  test('ordinary globs and the pathological ones, side by side', () => {
    const hostile = `${'**a'.repeat(40)}**c`;
    const cases: Array<[string, string, boolean]> = [
      ['main', 'main', true],
      ['main', 'mainline', false],
      ['release/*', 'release/1.2', true],
      ['release/*', 'release/1/2', false],
      ['release/**', 'release/1/2', true],
      ['**', 'feature/a/b', true],
      ['*', 'feature/a', false],
      ['feature/**/test', 'feature/x/y/test', true],
      ['v[0-9].[0-9]', 'v1.2', true],
      ['v[0-9].[0-9]', 'v1.x', false],
      ['[CB]at', 'Bat', true],
      ['colou?r', 'color', true],
      ['colou?r', 'colour', true],
      ['colou?r', 'colouur', false],
      ['a\\*b', 'a*b', true],
      ['a\\*b', 'axb', false],
      ['fix\\+docs', 'fix+docs', true],
      ['fix+docs', 'fix+docs', false],
      ['fix+docs', 'fixdocs', true],
      ['fix+docs', 'fixxxdocs', true],
      ['fix+docs', 'fidocs', false],
      ['v[0-9]+', 'v2026', true],
      ['v[0-9]+', 'v', false],
      ['v[0-9]+?', 'v', true],
      ['feature/🚀', 'feature/🚀', true],
      ['feature/🚀+', 'feature/🚀🚀', true],
      ['feature/?', 'feature/🚀', false],
      ['feature/*', 'feature/🚀', true],
      ['[🍏-🍓]', '🍒', true],
      ['[🍏-🍓]', '🍔', false],
      [`${'a+'.repeat(100)}c`, `${'a'.repeat(200)}b`, false],
      ['a.b', 'axb', false],
      [hostile, 'a'.repeat(50), false],
      [hostile, `${'a'.repeat(50)}c`, true],
      [`${'*a'.repeat(60)}*c`, `${'a'.repeat(200)}b`, false],
      [`${'**'.repeat(100)}x`, `${'y'.repeat(200)}x`, true],
    ];
    for (const [pattern, branch, expected] of cases) {
      assert.equal(matchesBranch(pattern, branch), expected, `${pattern} against ${branch}`);
    }
  });

  test('a later ! pattern excludes what earlier ones included, and the last match decides', () => {
    const patterns = ['release/**', '!release/**-alpha', 'release/keep-alpha'];
    assert.equal(isPipelineBranch(patterns, 'release/1.0', 'main'), true);
    assert.equal(isPipelineBranch(patterns, 'release/1.0-alpha', 'main'), false);
    assert.equal(isPipelineBranch(patterns, 'release/keep-alpha', 'main'), true);
    assert.equal(isPipelineBranch(patterns, 'main', 'main'), false);
    assert.equal(isPipelineBranch(undefined, 'main', 'main'), true);
  });

  test('patterns Sluice cannot read say what to fix', () => {
    assert.match(
      branchPatternProblem('x'.repeat(MAX_BRANCH_PATTERN_LENGTH + 1)) ?? '',
      /is 257 characters long; a branch pattern may have at most 256/,
    );
    assert.match(branchPatternProblem('v[0-9') ?? '', /without a closing \]; write \\\[ for a literal \[/);
    assert.match(branchPatternProblem('?x') ?? '', /starts with \?/);
    assert.match(
      branchPatternProblem('+x') ?? '',
      /starts with \+, which repeats the character before it; write \\\+ for a literal \+/,
    );
    assert.match(branchPatternProblem('[z-a]') ?? '', /whose end comes before its start/);
    assert.equal(branchPatternProblem('!release/*'), undefined);
  });
});
