/**
 * A tag named like the default branch is not the default branch: the
 * pipeline that runs is read from `refs/heads/<default branch>`, so a pusher
 * who creates a tag `main` with a pipeline of their own changes nothing.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GithubStandIn } from '../helpers/github-stand-in.ts';
import { githubSluicePerTest } from '../helpers/github-sluice.ts';
import { appFiles, pipelineFile, REPO } from '../helpers/shop.ts';
import { sha } from '../helpers/github-webhooks.ts';

const startApp = githubSluicePerTest();

describe('a tag named like the default branch', () => {
  test('the stand-in, like GitHub, reads a short name that is a tag and a branch as the tag, and refs/heads/ as the branch', async () => {
    const github = await new GithubStandIn().start();
    try {
      github.addCommit(REPO, sha(1), { 'f.txt': 'branch' });
      github.addCommit(REPO, sha(2), { 'f.txt': 'tag' });
      github.setBranch(REPO, 'main', sha(1));
      github.setTag(REPO, 'main', sha(2));
      github.install(REPO);
      github.grantToken('read-token');
      const read = async (ref: string) => {
        const response = await fetch(`${github.apiUrl}/repos/${REPO}/contents/f.txt?ref=${encodeURIComponent(ref)}`, {
          headers: { authorization: 'token read-token' },
        });
        return Buffer.from(((await response.json()) as { content: string }).content, 'base64').toString();
      };
      assert.equal(await read('main'), 'tag');
      assert.equal(await read('refs/tags/main'), 'tag');
      assert.equal(await read('refs/heads/main'), 'branch');
    } finally {
      await github.stop();
    }
  });

  test("a push reads the default branch's pipeline, not the one a tag of the same name holds", async () => {
    const app = await startApp();
    const pwnPipeline = pipelineFile(['echo taken-over']).replace('branches: [main, "release/*"]', 'branches: ["**"]');
    app.github.addCommit(REPO, sha(1), appFiles('v1'));
    app.github.addCommit(REPO, sha(2), appFiles('v2', pwnPipeline));
    app.github.setBranch(REPO, 'main', sha(1));
    app.github.setTag(REPO, 'main', sha(2));

    const reply = await app.sendPush({ branch: 'feature/x', after: sha(2) }, { delivery: 'feature' });
    assert.equal(reply.status, 200, reply.text);
    await app.sluice.idle();
    assert.equal(
      (await app.sluice.store.getDelivery('feature'))?.note,
      'branch feature/x is not one the pipeline runs for',
    );
    assert.deepEqual(await app.sluice.store.listExecutions(), []);
    assert.deepEqual(app.github.writes(), []);
  });
});
