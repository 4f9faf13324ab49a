/**
 * Branch pattern matching: Sluice's matcher beside a backtracking regular
 * expression built from the same glob (`*` → `[^/]*`, `**` → `.*`), on an
 * ordinary pattern and on `**a**a…**c` against branches of `a`s that do not
 * match. The regex's time grows steeply with the branch length; the
 * matcher's stays bounded by pattern × branch length.
 */
import { matchesBranch } from '../src/config/match-branch.ts';

function regexFor(pattern: string): RegExp {
  const source = pattern
    .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
    .replace(/\*\*|\*/g, (star) => (star === '**' ? '.*' : '[^/]*'));
  return new RegExp(`^${source}$`);
}

/** The fastest of 5 runs, after one to warm up. */
function time(run: () => boolean): { ms: number; result: boolean } {
  const result = run();
  let ms = Infinity;
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    run();
    ms = Math.min(ms, performance.now() - started);
  }
  return { ms, result };
}

const hostile = `${'**a'.repeat(12)}**c`;
const cases: Array<[string, string, string]> = [
  ['ordinary', 'release/**', 'release/2026/12/hotfix'],
  ...[12, 16, 20, 24].map((length): [string, string, string] => [
    `hostile, ${length} characters`,
    hostile,
    'a'.repeat(length),
  ]),
];
console.log('| case | matcher ms | regex ms | same answer |');
console.log('|---|---|---|---|');
for (const [name, pattern, branch] of cases) {
  const ours = time(() => matchesBranch(pattern, branch));
  const regex = regexFor(pattern);
  const theirs = time(() => regex.test(branch));
  console.log(`| ${name} | ${ours.ms.toFixed(3)} | ${theirs.ms.toFixed(3)} | ${ours.result === theirs.result} |`);
}
