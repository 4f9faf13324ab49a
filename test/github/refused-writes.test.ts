/**
 * What GitHub refuses does not stop an execution's reports: the check runs
 * fit GitHub's byte limits, and a write GitHub still refuses is logged once,
 * sent smaller where that helps, and passed over, so the other check runs
 * and the Deployments are reported all the same.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { notFound, validationFailed } from '../helpers/github-rules.ts';
import { type GithubSluice, githubSluicePerTest } from '../helpers/github-sluice.ts';
import { appFiles, pipelineFile, REPO } from '../helpers/shop.ts';
import { sha } from '../helpers/github-webhooks.ts';

const startApp = githubSluicePerTest();

const BUILD = ['mkdir -p dist', 'cp VERSION dist/VERSION'];

/** The last state each check run was given, by name, merging the writes GitHub took. */
function finalChecks(started: GithubSluice): Map<string, Record<string, unknown>> {
  const byName = new Map<string, Record<string, unknown>>();
  for (const call of started.github.calls.filter((c) => c.path.includes('/check-runs') && c.status < 300)) {
    const id = Number(call.response?.id);
    const name = String(started.github.checkRun(id)?.name);
    byName.set(name, { ...byName.get(name), ...call.body });
  }
  return byName;
}

const latestStates = (started: GithubSluice) =>
  started.github.deployments(REPO).map((d) => `${d.environment}: ${d.statuses.at(-1)?.state}`);
const refusals = (started: GithubSluice) => started.logs.filter((l) => l.startsWith('GitHub refused'));
/** The build and dev check runs' conclusions, as GitHub shows them. */
const conclusions = (started: GithubSluice) => {
  const checks = finalChecks(started);
  return ['build', 'dev'].map((s) => checks.get(`Sluice: ${s}`)?.conclusion);
};
/** The one line Sluice logged of a write GitHub refused. */
function onlyRefusal(started: GithubSluice): string {
  const told = refusals(started);
  assert.equal(told.length, 1, told.join('\n'));
  return told[0]!;
}

async function push(started: GithubSluice, n: number, build: string[]): Promise<void> {
  started.github.addCommit(REPO, sha(n), appFiles('v1', pipelineFile(build)));
  const reply = await started.sendPush({ after: sha(n) });
  assert.equal(reply.status, 200, reply.text);
  await started.sluice.idle();
}

describe('reports GitHub refuses', () => {
  test('a build log of Hangul, emoji and box drawing: the build check run completes with its log tail, and the dev Deployment is reported', async () => {
    // Log updates once a second, not every 50 ms: 30,000 lines re-read at every update is load, not the point.
    const started = await startApp({ start: { logIntervalMs: 1000 } });
    await push(started, 1, [
      ...BUILD,
      'i=0; while [ $i -lt 30000 ]; do i=$((i+1)); echo "빌드 중 ━━━ ✅ 단계 3/7 🚀 $i"; done',
    ]);

    const refused = started.github.calls.filter((c) => c.status >= 400);
    assert.deepEqual(
      refused.map((c) => `${c.method} ${c.path} ${c.status} ${JSON.stringify(c.response)}`),
      [],
      'GitHub refused nothing',
    );
    const checks = finalChecks(started);
    const build = checks.get('Sluice: build')!;
    assert.deepEqual([build.status, build.conclusion], ['completed', 'success']);
    const text = (build.output as { text: string }).text;
    assert.ok(Buffer.byteLength(text) <= 65_535, `${Buffer.byteLength(text)} bytes`);
    assert.ok(
      text.includes('빌드 중 ━━━ ✅ 단계 3/7 🚀 30000\npacking artifact'),
      `the log tail, to the build's last line: ${JSON.stringify(text.slice(-300))}`,
    );
    assert.ok(
      text.includes('… (earlier lines cut; the full log is on Sluice)\n빌드 중'),
      'the cut is said, and the log starts at a whole line',
    );
    assert.deepEqual([checks.get('Sluice: dev')?.conclusion], ['success']);
    assert.deepEqual(latestStates(started), ['dev: success']);
    assert.deepEqual(refusals(started), []);
  });

  test('a check run GitHub refuses is sent again with less of the log, logged once, and the later stages and the Deployment are reported', async () => {
    const started = await startApp();
    // What GitHub would answer a text it measures as too long, for every write of the build's check run until it is
    // smaller.
    started.github.refuseNext(
      /\/check-runs/,
      1,
      validationFailed(
        'CheckRun',
        'text',
        'text exceeds a maximum bytesize of 65535',
        'checks/runs#update-a-check-run',
      ),
    );
    await push(started, 2, [...BUILD, 'i=0; while [ $i -lt 3000 ]; do i=$((i+1)); echo "line $i of the build"; done']);

    assert.deepEqual(conclusions(started), ['success', 'success']);
    assert.deepEqual(latestStates(started), ['dev: success']);
    assert.match(
      onlyRefusal(started),
      /^GitHub refused the check run "Sluice: build" of acme\/shop execution #1 \(422 Validation Failed: text exceeds a maximum bytesize of 65535\); Sluice sent it with less of the log\.$/,
    );
  });

  test('without the deployments permission: every check run is reported, and the refused Deployment is logged once and not tried again', async () => {
    const started = await startApp({
      githubPermissions: { checks: 'write', contents: 'read', metadata: 'read' },
    });
    await push(started, 3, BUILD);

    const checks = finalChecks(started);
    assert.deepEqual(
      ['build', 'dev'].map((s) => [checks.get(`Sluice: ${s}`)?.status, checks.get(`Sluice: ${s}`)?.conclusion]),
      [
        ['completed', 'success'],
        ['completed', 'success'],
      ],
    );
    assert.equal(
      started.github.calls.filter((c) => c.path.endsWith('/deployments')).length,
      1,
      'one try, not one per report',
    );
    const told = refusals(started);
    assert.equal(told.length, 1, told.join('\n'));
    assert.match(
      told[0]!,
      /^GitHub refused the Deployment of dev\/dev-deploy to dev for acme\/shop execution #1 \(403 Resource not accessible by integration\); the deploy shows on its check run only\.$/,
    );
  });

  test('a check run GitHub no longer has (404) is created anew, and the execution is reported to its end', async () => {
    const started = await startApp();
    started.github.refuseNext(/\/check-runs\/\d+$/, 1, notFound('checks/runs#update-a-check-run'));
    await push(started, 4, BUILD);

    const created = started.github.calls
      .filter((c) => c.method === 'POST' && c.path.endsWith('/check-runs') && c.status === 201)
      .map((c) => String(c.body?.name));
    assert.equal(created.length, 3, `two stages and one created anew: ${created.join(', ')}`);
    assert.deepEqual(conclusions(started), ['success', 'success']);
    assert.deepEqual(latestStates(started), ['dev: success']);
    assert.match(onlyRefusal(started), /\(404 Not Found\); Sluice created it anew\.$/);
  });

  test('a Deployment GitHub no longer has (404) is reported no more, and the check runs still are', async () => {
    const started = await startApp();
    started.github.refuseNext(
      /\/deployments\/\d+\/statuses$/,
      1,
      notFound('deployments/statuses#create-a-deployment-status'),
    );
    await push(started, 5, BUILD);

    assert.equal(
      started.github.calls.filter((c) => c.path.endsWith('/statuses')).length,
      1,
      'no status sent after the 404',
    );
    assert.deepEqual(conclusions(started), ['success', 'success']);
    assert.match(
      onlyRefusal(started),
      /^GitHub refused the queued status of the Deployment of dev\/dev-deploy to dev for acme\/shop execution #1 \(404 Not Found\); the Deployment is gone, so Sluice reports no more of it\.$/,
    );
  });

  test('an invalid pipeline file whose annotations GitHub refuses still gets its failed check run, listing the problems', async () => {
    const started = await startApp();
    started.github.refuseNext(
      /\/check-runs$/,
      1,
      validationFailed('CheckRun', 'annotations', 'annotations are invalid', 'checks/runs#create-a-check-run'),
    );
    started.github.addCommit(REPO, sha(6), { '.github/sluice.yml': 'stages:\n  - name: build\n    colour: blue\n' });
    await started.sendPush({ after: sha(6) });
    await started.sluice.idle();

    const taken = started.github.calls.filter((c) => c.path.endsWith('/check-runs') && c.status === 201);
    assert.equal(taken.length, 1);
    assert.deepEqual([taken[0]!.body?.name, taken[0]!.body?.conclusion], ['Sluice: pipeline', 'failure']);
    const output = taken[0]!.body?.output as { summary: string; annotations?: unknown[] };
    assert.equal(output.annotations, undefined);
    assert.match(output.summary, /- line 3, column 5: .*colour/);
  });
});
