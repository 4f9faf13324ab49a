/**
 * What GitHub refuses does not stop an execution's reports: the check runs
 * fit GitHub's byte limits, and a write GitHub still refuses is logged once,
 * sent smaller where that helps, and passed over, so the other check runs
 * and the Deployments are reported all the same.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { validationFailed } from '../helpers/github-rules.ts';
import { appFiles, pipelineFile, startGithubSluice, WEBHOOK_SECRET, type GithubSluice } from '../helpers/github-sluice.ts';
import { pushPayload, sendWebhook, sha } from '../helpers/github-webhooks.ts';

let app: GithubSluice | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const REPO = 'acme/shop';
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

const latestStates = (started: GithubSluice) => started.github.deployments(REPO).map((d) => `${d.environment}: ${d.statuses.at(-1)?.state}`);
const refusals = (started: GithubSluice) => started.logs.filter((l) => l.startsWith('GitHub refused'));

async function push(started: GithubSluice, n: number, build: string[]): Promise<void> {
  started.github.addCommit(REPO, sha(n), appFiles('v1', pipelineFile(build)));
  const reply = await sendWebhook(started.sluice.url, WEBHOOK_SECRET, 'push', pushPayload({ repo: REPO, after: sha(n) }));
  assert.equal(reply.status, 200, reply.text);
  await started.sluice.idle();
}

describe('reports GitHub refuses', () => {
  test('a build log of Hangul, emoji and box drawing: the build check run completes with its log tail, and the dev Deployment is reported', async () => {
    // Log updates once a second, not every 50 ms: 30,000 lines re-read at every update is load, not the point.
    const started = (app = await startGithubSluice({ start: { logIntervalMs: 1000 } }));
    await push(started, 1, [...BUILD, 'i=0; while [ $i -lt 30000 ]; do i=$((i+1)); echo "빌드 중 ━━━ ✅ 단계 3/7 🚀 $i"; done']);

    const refused = started.github.calls.filter((c) => c.status >= 400);
    assert.deepEqual(refused.map((c) => `${c.method} ${c.path} ${c.status} ${JSON.stringify(c.response)}`), [], 'GitHub refused nothing');
    const checks = finalChecks(started);
    const build = checks.get('Sluice: build')!;
    assert.deepEqual([build.status, build.conclusion], ['completed', 'success']);
    const text = (build.output as { text: string }).text;
    assert.ok(Buffer.byteLength(text) <= 65_535, `${Buffer.byteLength(text)} bytes`);
    assert.ok(text.includes('빌드 중 ━━━ ✅ 단계 3/7 🚀 30000\npacking artifact'), `the log tail, to the build's last line: ${JSON.stringify(text.slice(-300))}`);
    assert.ok(text.includes('… (earlier lines cut; the full log is on Sluice)\n빌드 중'), 'the cut is said, and the log starts at a whole line');
    assert.deepEqual([checks.get('Sluice: dev')?.conclusion], ['success']);
    assert.deepEqual(latestStates(started), ['dev: success']);
    assert.deepEqual(refusals(started), []);
  });

  test('a check run GitHub refuses is sent again with less of the log, logged once, and the later stages and the Deployment are reported', async () => {
    const started = (app = await startGithubSluice());
    // What GitHub would answer a text it measures as too long, for every write of the build's check run until it is smaller.
    started.github.refuseNext(/\/check-runs/, 1, validationFailed('CheckRun', 'text', 'text exceeds a maximum bytesize of 65535', 'checks/runs#update-a-check-run'));
    await push(started, 2, [...BUILD, 'i=0; while [ $i -lt 3000 ]; do i=$((i+1)); echo "line $i of the build"; done']);

    const checks = finalChecks(started);
    assert.deepEqual(['build', 'dev'].map((s) => checks.get(`Sluice: ${s}`)?.conclusion), ['success', 'success']);
    assert.deepEqual(latestStates(started), ['dev: success']);
    const told = refusals(started);
    assert.equal(told.length, 1, told.join('\n'));
    assert.match(told[0]!, /^GitHub refused the check run "Sluice: build" of acme\/shop execution #1 \(422 Validation Failed: text exceeds a maximum bytesize of 65535\); Sluice sent it with less of the log\.$/);
  });

  test('without the deployments permission: every check run is reported, and the refused Deployment is logged once and not tried again', async () => {
    const started = (app = await startGithubSluice({ githubPermissions: { checks: 'write', contents: 'read', metadata: 'read' } }));
    await push(started, 3, BUILD);

    const checks = finalChecks(started);
    assert.deepEqual(['build', 'dev'].map((s) => [checks.get(`Sluice: ${s}`)?.status, checks.get(`Sluice: ${s}`)?.conclusion]), [
      ['completed', 'success'],
      ['completed', 'success'],
    ]);
    assert.equal(started.github.calls.filter((c) => c.path.endsWith('/deployments')).length, 1, 'one try, not one per report');
    const told = refusals(started);
    assert.equal(told.length, 1, told.join('\n'));
    assert.match(told[0]!, /^GitHub refused the Deployment of dev\/dev-deploy to dev for acme\/shop execution #1 \(403 Resource not accessible by integration\); the deploy shows on its check run only\.$/);
  });
});
