/**
 * Branch patterns made to stall a backtracking matcher (`**a**a…**c`
 * against a long branch of `a`s) get their answer through a signed push,
 * and a pattern over the length cap is refused by `sluice validate` with
 * where it is and what to fix.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { githubSluicePerTest } from '../helpers/github-sluice.ts';
import { appFiles, pipelineFile, REPO } from '../helpers/shop.ts';
import { sha } from '../helpers/github-webhooks.ts';
import { runSluice } from '../helpers/run-sluice.ts';

const startApp = githubSluicePerTest();
const dir = mkdtempSync(join(tmpdir(), 'sluice-patterns-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('hostile branch patterns', () => {
  test('a pattern of many ** against a 50-character branch is answered, rightly, and Sluice goes on', async () => {
    const app = await startApp();
    const hostile = `${'**a'.repeat(40)}**c`;
    const pipeline = pipelineFile().replace('branches: [main, "release/*"]', `branches: [main, "${hostile}"]`);
    app.github.addCommit(REPO, sha(1), appFiles('v1', pipeline));
    app.github.setBranch(REPO, 'main', sha(1));

    const miss = 'a'.repeat(50);
    const missed = await app.sendPush({ branch: miss, after: sha(1) }, { delivery: 'miss' });
    assert.equal(missed.status, 200, missed.text);
    const hit = `${'a'.repeat(49)}c`;
    const hitReply = await app.sendPush({ branch: hit, after: sha(1) }, { delivery: 'hit' });
    assert.equal(hitReply.status, 200, hitReply.text);
    await app.sluice.idle();

    assert.equal((await app.sluice.store.getDelivery('miss'))?.note, `branch ${miss} is not one the pipeline runs for`);
    assert.match((await app.sluice.store.getDelivery('hit'))?.note ?? '', /^started execution #1$/);
    const executions = await app.sluice.store.listExecutions();
    assert.deepEqual(
      executions.map((e) => e.revision.ref),
      [hit],
    );
    assert.equal((await fetch(`${app.sluice.url}/healthz`)).status, 200);
  });

  test('sluice validate refuses a pattern over 256 characters and a list of only exclusions, at their place', async () => {
    const long = `release/${'x'.repeat(300)}`;
    writeFileSync(
      join(dir, 'sluice.yml'),
      `on:\n  push:\n    branches: [main, "${long}"]\nstages:\n  - name: build\n    actions:\n      - name: a\n        command: { host: local, run: ["true"] }\n`,
    );
    const result = await runSluice(['validate', 'sluice.yml'], { cwd: dir });
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^sluice\.yml:3:22: on\.push\.branches\[1\]: branch pattern "release\/x+…" is 308 characters long; a branch pattern may have at most 256\n$/,
    );

    writeFileSync(
      join(dir, 'sluice.yml'),
      `on:\n  push:\n    branches: ["!main"]\nstages:\n  - name: build\n    actions:\n      - name: a\n        command: { host: local, run: ["true"] }\n`,
    );
    const only = await runSluice(['validate', 'sluice.yml'], { cwd: dir });
    assert.equal(only.code, 1);
    assert.match(
      only.stderr,
      /^sluice\.yml:3:15: on\.push\.branches: every pattern starts with !, so no branch is included; name at least one branch to run for\n$/,
    );
  });

  test('sluice validate refuses more than 100 patterns, or 4096 characters of them, at the list', async () => {
    const write = (patterns: string[]) =>
      writeFileSync(
        join(dir, 'sluice.yml'),
        `on:\n  push:\n    branches: [${patterns.map((p) => `"${p}"`).join(', ')}]\nstages:\n  - name: build\n    actions:\n      - name: a\n        command: { host: local, run: ["true"] }\n`,
      );
    write(Array.from({ length: 101 }, (_, i) => `release/${i}`));
    const many = await runSluice(['validate', 'sluice.yml'], { cwd: dir });
    assert.equal(many.code, 1);
    assert.match(
      many.stderr,
      /^sluice\.yml:3:15: on\.push\.branches: at most 100 branch patterns; name branches by a scheme \(release\/\*\*\) instead of one by one\n$/,
    );

    write(Array.from({ length: 20 }, (_, i) => `release/${i}/${'x'.repeat(240)}`));
    const long = await runSluice(['validate', 'sluice.yml'], { cwd: dir });
    assert.equal(long.code, 1);
    assert.match(
      long.stderr,
      /^sluice\.yml:3:15: on\.push\.branches: the branch patterns are \d+ characters long together; they may have at most 4096, as each is tried on every push\n$/,
    );
  });

  test('+ repeats the character before it, and a pattern of emoji matches a branch of them, through a signed push', async () => {
    const app = await startApp();
    const pipeline = pipelineFile().replace(
      'branches: [main, "release/*"]',
      'branches: [main, "hotfix-[0-9]+", "🚀/*"]',
    );
    app.github.addCommit(REPO, sha(1), appFiles('v1', pipeline));
    app.github.setBranch(REPO, 'main', sha(1));
    const branches = ['hotfix-', 'hotfix-12a', 'hotfix-2026', '🚀/launch', '🛸/launch'];
    for (const [i, branch] of branches.entries()) {
      const reply = await app.sendPush({ branch, after: sha(1) }, { delivery: `push-${i}` });
      assert.equal(reply.status, 200, reply.text);
    }
    await app.sluice.idle();
    for (const i of [0, 1, 4]) {
      assert.equal(
        (await app.sluice.store.getDelivery(`push-${i}`))?.note,
        `branch ${branches[i]} is not one the pipeline runs for`,
      );
    }
    const executions = await app.sluice.store.listExecutions();
    assert.deepEqual(executions.map((e) => e.revision.ref).sort(), ['hotfix-2026', '🚀/launch'].sort());
  });
});
