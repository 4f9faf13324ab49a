/**
 * Every `push`, `check_run` and `check_suite` example GitHub's webhook
 * examples (`@octokit/webhooks-examples`) hold, signed and sent over HTTP to
 * the real app: each is answered 2xx and handled, none is recorded as
 * unreadable, and a push to a branch the pipeline names starts an execution
 * that runs to the end.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { type GithubSluice, githubSluicePerTest } from '../helpers/github-sluice.ts';
import { sendWebhook } from '../helpers/github-webhooks.ts';
import { pipelineFixture } from '../helpers/pipeline-fixture.ts';

interface Example {
  ref?: string;
  after?: string;
  repository: { full_name: string; default_branch: string };
  installation?: { id: number };
  check_run?: { app: { id: number } };
  check_suite?: { app: { id: number } };
}

const examples = createRequire(import.meta.url)('@octokit/webhooks-examples') as Array<{
  name: string;
  examples: Example[];
}>;
const of = (event: string): Example[] => examples.find((e) => e.name === event)?.examples ?? [];

const startApp = githubSluicePerTest();

/** A pipeline for the examples' repository: it builds on the branches the examples push to. */
function pipelineFor(branch: string): string {
  return pipelineFixture('build-to-dev', (pipeline) => {
    pipeline.on = { push: { branches: [branch] } };
  });
}

/** The examples come from GitHub's own repositories (Codertocat/…): the operator lets them build here. */
function serverConfig(dir: string): string {
  return `hosts:
  builder: [local]
local:
  repos: ["*"]
environments:
  dev:
    hosts: [local]
    path: ${join(dir, 'srv-dev')}
`;
}

/** Sends one example and checks it was answered and handled; returns what Sluice noted. */
async function deliver(running: GithubSluice, event: string, payload: unknown, delivery: string): Promise<string> {
  const reply = await sendWebhook(running.sluice.url, 'webhook-secret-for-tests', event, payload, { delivery });
  assert.ok(reply.status >= 200 && reply.status < 300, `${delivery}: answered ${reply.status} ${reply.text}`);
  await running.sluice.idle();
  const stored = await running.sluice.store.getDelivery(delivery);
  assert.equal(stored?.status, 'done', `${delivery}: handled (${stored?.note ?? 'no note'})`);
  assert.doesNotMatch(stored.note ?? '', /Sluice can read/, `${delivery}: read`);
  return stored.note ?? '';
}

describe('GitHub’s published webhook examples, through the app', () => {
  test('every push example is handled, and each push to a branch the pipeline names starts an execution', async () => {
    const pushes = of('push');
    assert.ok(pushes.length > 0);
    for (const [n, example] of pushes.entries()) {
      // A fresh Sluice for each: the examples repeat one push, which a second time is rightly seen as old.
      const running = await startApp({ serverConfig });
      const branch = example.ref?.replace(/^refs\/heads\//, '') ?? '';
      if (example.installation) running.github.install(example.repository.full_name, example.installation.id);
      if (example.after && !/^0+$/.test(example.after)) {
        running.github.addCommit(example.repository.full_name, example.after, {
          '.github/sluice.yml': pipelineFor(branch),
          VERSION: 'v1\n',
        });
      }
      const note = await deliver(running, 'push', example, `push-${n}`);
      const executions = await running.sluice.store.listExecutions();
      if (example.ref?.startsWith('refs/heads/') && !/^0+$/.test(example.after ?? '')) {
        assert.equal(note, 'started execution #1', `push-${n}`);
        assert.equal(executions[0]?.status, 'succeeded', `push-${n}: ${executions[0]?.reason ?? ''}`);
        assert.equal(executions[0]?.revision.sha, example.after);
      } else {
        assert.deepEqual(executions, [], `push-${n} (${example.ref}) starts nothing: ${note}`);
      }
      await running.close();
    }
  });

  for (const event of ['check_run', 'check_suite'] as const) {
    test(`every ${event} example is handled, as sent and as if it were of Sluice's own app`, async () => {
      const running = await startApp({ serverConfig });
      const sent = of(event);
      assert.ok(sent.length > 0);
      for (const [n, example] of sent.entries()) {
        if (example.installation) running.github.install(example.repository.full_name, example.installation.id);
        assert.match(await deliver(running, event, example, `${event}-${n}`), /another app/);
        const own = structuredClone(example);
        own[event]!.app.id = running.github.appId;
        await deliver(running, event, own, `${event}-${n}-own`);
      }
      assert.deepEqual(await running.sluice.store.listExecutions(), []);
    });
  }
});
