/**
 * `npm run bench`: every benchmark in this folder, one after another.
 * Results go to standard output; bench/RESULTS.md keeps the committed ones.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const benches = ['engine-store.ts', 'service.ts', 'rollout.ts'];
for (const bench of benches) {
  console.log(`\n## ${bench}\n`);
  const result = spawnSync(process.execPath, [fileURLToPath(new URL(bench, import.meta.url))], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
