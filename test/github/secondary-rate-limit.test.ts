/**
 * GitHub's secondary rate limit, with GitHub pacing on as in production: a
 * write refused with 403 or 429 and `Retry-After` is sent again once that
 * time has passed, and the execution's reports all arrive.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { githubSluicePerTest } from '../helpers/github-sluice.ts';
import { appFiles, pipelineFile, REPO } from '../helpers/shop.ts';
import { sha } from '../helpers/github-webhooks.ts';

const startApp = githubSluicePerTest();

for (const status of [403, 429] as const) {
  test(`a write refused with ${status} and Retry-After: 1 is sent again no sooner than a second later, and the reports arrive`, async () => {
    const started = await startApp({ start: { githubPacing: true } });
    // Two writes a minute: the build's check run is created and the third write is refused.
    started.github.limitWrites({ writes: 2, perMs: 60_000, retryAfterSeconds: 1, status });
    started.github.addCommit(REPO, sha(1), appFiles('v1', pipelineFile(['mkdir -p dist', 'cp VERSION dist/VERSION'])));
    const reply = await started.sendPush({ after: sha(1) });
    assert.equal(reply.status, 200, reply.text);
    await started.sluice.idle();

    const writes = started.github.writes();
    const refused = writes.find((c) => c.status === status);
    assert.ok(refused, `a write was refused: ${writes.map((c) => `${c.method} ${c.path} ${c.status}`).join(', ')}`);
    assert.equal(
      refused.response?.message,
      'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.',
    );
    const again = writes.find(
      (c) =>
        c.at > refused.at &&
        c.method === refused.method &&
        c.path === refused.path &&
        JSON.stringify(c.body) === JSON.stringify(refused.body) &&
        c.status < 300,
    );
    assert.ok(again, 'the refused write was sent again and taken');
    assert.ok(
      again.at - refused.at >= 1000,
      `sent again ${again.at - refused.at} ms after the refusal, before Retry-After's second had passed`,
    );
    assert.deepEqual(
      writes.filter((c) => c.status === status && c.at < refused.at + 1000 && c !== refused),
      [],
      'nothing else was tried while GitHub said to wait',
    );

    const runs = ['Sluice: build', 'Sluice: dev'].map((name) => {
      const id = started.github.calls.find((c) => c.method === 'POST' && c.body?.name === name && c.status === 201)
        ?.response?.id;
      const run = started.github.checkRun(Number(id));
      return [run?.status, run?.conclusion];
    });
    assert.deepEqual(runs, [
      ['completed', 'success'],
      ['completed', 'success'],
    ]);
    assert.deepEqual(
      started.github.deployments(REPO).map((d) => `${d.environment}: ${d.statuses.at(-1)?.state}`),
      ['dev: success'],
    );
    assert.ok(
      started.logs.some((l) =>
        /^GitHub's secondary rate limit refused (POST|PATCH) .+; Sluice tries again in 1s, as GitHub asked\.$/.test(l),
      ),
      started.logs.join('\n'),
    );
  });
}
