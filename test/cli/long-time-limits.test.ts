/**
 * Time limits longer than a timer can hold (about 24.8 days): Node fires
 * such a timer after 1 ms, so a pipeline `timeout: 30d` killed every command
 * at once as "timed out after 30d". Such a limit now waits as long as a
 * timer can, and the command runs.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { buildOf, pipelineFixture } from '../helpers/pipeline-fixture.ts';
import { runSluice } from '../helpers/run-sluice.ts';
import { makeCheckout } from '../helpers/temp-checkout.ts';

const checkout = makeCheckout({
  'README.md': 'A repository with a patient build.\n',
  '.github/sluice.yml': pipelineFixture('one-build', (pipeline) => {
    Object.assign(buildOf(pipeline), { timeout: '30d', run: ['sleep 0.2', 'echo built'] });
  }),
});
after(() => checkout.remove());

test('a build whose timeout is 30 days runs its commands instead of timing them out at once', async () => {
  writeFileSync(join(checkout.scratch, 'server.yml'), `hosts:\n  local: [local]\nlocal: { repos: ['*'] }\n`);
  const result = await runSluice(
    ['run', '--server', join(checkout.scratch, 'server.yml'), '--data-dir', join(checkout.scratch, 'data')],
    { cwd: checkout.dir, timeoutMs: 120_000 },
  );
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /build\/compile │ built/);
  assert.doesNotMatch(result.stdout + result.stderr, /timed out|TimeoutOverflowWarning/);
});
