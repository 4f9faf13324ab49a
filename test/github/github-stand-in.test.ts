/**
 * The GitHub stand-in refuses what GitHub refuses, with GitHub's status and
 * message, so that tests against it cannot pass what GitHub would fail.
 */
import assert from 'node:assert/strict';
import { createSign } from 'node:crypto';
import { afterEach, describe, test } from 'node:test';
import { GithubStandIn } from '../helpers/github-stand-in.ts';
import type { Permissions } from '../helpers/github-rules.ts';

let github: GithubStandIn | undefined;
afterEach(async () => {
  await github?.stop();
  github = undefined;
});

const REPO = 'acme/shop';
const SHA = 'a'.repeat(40);

/** The stand-in and a client holding one of its installation tokens, as Sluice gets one. */
async function connect(permissions?: Permissions) {
  github = await new GithubStandIn(permissions && { permissions }).start();
  const now = Math.floor(Date.now() / 1000);
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ iat: now - 30, exp: now + 300, iss: github.appId })}`;
  const jwt = `${unsigned}.${createSign('RSA-SHA256').update(unsigned).sign(github.privateKey, 'base64url')}`;
  const tokens = await fetch(`${github.apiUrl}/app/installations/77/access_tokens`, { method: 'POST', headers: { authorization: `Bearer ${jwt}` } });
  assert.equal(tokens.status, 201);
  const { token } = (await tokens.json()) as { token: string };
  const stand = github;
  return async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${stand.apiUrl}/repos/${REPO}${path}`, {
      method,
      headers: { authorization: `token ${token}`, 'content-type': 'application/json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
}

const hangul = (bytes: number) => '한'.repeat(Math.floor(bytes / 3));

describe('the GitHub stand-in refuses check runs as GitHub does', () => {
  test('a summary or text over 65,535 bytes of UTF-8 is refused with 422, though it has far fewer characters', async () => {
    const call = await connect();
    const run = (output: Record<string, string>) => call('POST', '/check-runs', { name: 'Sluice: build', head_sha: SHA, output: { title: 'build', ...output } });
    const summary = await run({ summary: hangul(65_538) });
    assert.equal(summary.status, 422);
    assert.deepEqual(summary.body.errors, [{ resource: 'CheckRun', code: 'custom', field: 'summary', message: 'summary exceeds a maximum bytesize of 65535' }]);
    assert.equal(summary.body.message, 'Validation Failed');
    const text = await run({ summary: 'ok', text: `${'🚀'.repeat(16_383)}abcd` });
    assert.equal(text.status, 422, 'four bytes an emoji: 65,532 bytes and four more');
    assert.match(JSON.stringify(text.body.errors), /text exceeds a maximum bytesize of 65535/);
    assert.equal((await run({ summary: hangul(65_535), text: `${'🚀'.repeat(16_383)}abc` })).status, 201, 'exactly at the limit is fine');

    const created = await run({ summary: 'ok' });
    const update = await call('PATCH', `/check-runs/${String(created.body.id)}`, { output: { title: 'build', summary: hangul(65_538) } });
    assert.equal(update.status, 422);
  });

  test('annotations: at most 50 a request, each with its path, lines, level and message', async () => {
    const call = await connect();
    const annotation = { path: '.github/sluice.yml', start_line: 1, end_line: 1, annotation_level: 'failure', message: 'no' };
    const run = (annotations: unknown[]) => call('POST', '/check-runs', { name: 'Sluice: pipeline', head_sha: SHA, output: { title: 't', summary: 's', annotations } });
    assert.equal((await run(Array(50).fill(annotation))).status, 201);
    assert.equal((await run(Array(51).fill(annotation))).status, 422);
    assert.equal((await run([{ ...annotation, annotation_level: 'error' }])).status, 422);
    assert.equal((await run([{ ...annotation, title: 'x'.repeat(256) }])).status, 422);
    assert.equal((await run([{ ...annotation, end_line: 2, start_column: 1 }])).status, 422, 'columns only on one line');
    const { path: _path, ...noPath } = annotation;
    assert.equal((await run([noPath])).status, 422);
  });

  test('an update of a check run that does not exist is 404', async () => {
    const call = await connect();
    const reply = await call('PATCH', '/check-runs/999999', { status: 'in_progress' });
    assert.equal(reply.status, 404);
    assert.equal(reply.body.message, 'Not Found');
  });
});

describe('the GitHub stand-in keeps Deployments with their states, as GitHub does', () => {
  test('a status of a Deployment that does not exist is 404; states are GitHub’s; descriptions at most 140 characters', async () => {
    const call = await connect();
    const missing = await call('POST', '/deployments/424242/statuses', { state: 'success' });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.message, 'Not Found');
    const deployment = await call('POST', '/deployments', { ref: SHA, environment: 'dev', required_contexts: [] });
    const id = String(deployment.body.id);
    assert.equal((await call('POST', `/deployments/${id}/statuses`, { state: 'done' })).status, 422);
    assert.equal((await call('POST', `/deployments/${id}/statuses`, { state: 'success', description: 'x'.repeat(141) })).status, 422);
    assert.equal((await call('POST', `/deployments/${id}/statuses`, { state: 'success', description: 'x'.repeat(140) })).status, 201);
    assert.deepEqual(github!.deployments(REPO).map((d) => d.statuses.map((s) => s.state)), [['success']]);
  });

  test('a Deployment without required_contexts while a check of its commit has not succeeded is 409, as GitHub answers', async () => {
    const call = await connect();
    const run = await call('POST', '/check-runs', { name: 'Sluice: build', head_sha: SHA, status: 'in_progress' });
    const conflict = await call('POST', '/deployments', { ref: SHA, environment: 'dev' });
    assert.equal(conflict.status, 409);
    assert.equal(conflict.body.message, `Conflict: Commit status checks failed for ${SHA}.`);
    assert.deepEqual(conflict.body.errors, [{ contexts: [{ context: 'Sluice: build', state: 'pending' }], resource: 'Deployment', field: 'required_contexts', code: 'invalid' }]);
    assert.equal((await call('POST', '/deployments', { ref: SHA, environment: 'dev', required_contexts: [] })).status, 201, 'required_contexts: [] checks nothing');
    await call('PATCH', `/check-runs/${String(run.body.id)}`, { status: 'completed', conclusion: 'success' });
    assert.equal((await call('POST', '/deployments', { ref: SHA, environment: 'dev' })).status, 201, 'every check succeeded');
  });

  test('a new success marks earlier successful Deployments of the environment inactive, unless auto_inactive is off, they are production or transient', async () => {
    const call = await connect();
    const deploy = async (environment: string, options: Record<string, unknown> = {}, status: Record<string, unknown> = {}) => {
      const created = await call('POST', '/deployments', { ref: SHA, environment, required_contexts: [], ...options });
      assert.equal((await call('POST', `/deployments/${String(created.body.id)}/statuses`, { state: 'success', ...status })).status, 201);
    };
    await deploy('dev');
    await deploy('dev', { transient_environment: true });
    await deploy('production');
    await deploy('dev', {}, { auto_inactive: false });
    await deploy('production');
    await deploy('dev');
    const latest = github!.deployments(REPO).map((d) => `${d.environment}${d.transient ? ' (transient)' : ''}: ${d.statuses.at(-1)?.state}`);
    assert.deepEqual(latest, ['dev: inactive', 'dev (transient): success', 'production: success', 'dev: inactive', 'production: success', 'dev: success']);
    assert.deepEqual(github!.deployments(REPO)[0]!.statuses.map((s) => `${s.state} by ${s.by}`), ['success by app', 'inactive by auto_inactive'], 'an inactive one stays inactive');
  });
});

describe('the GitHub stand-in grants an installation what the app manifest asks for, and no more', () => {
  test('the token carries app.yml’s permissions; an endpoint needing another is 403 "Resource not accessible by integration"', async () => {
    const call = await connect();
    assert.deepEqual(github!.permissions, { checks: 'write', contents: 'read', deployments: 'write', metadata: 'read' });
    const status = await call('POST', `/statuses/${SHA}`, { state: 'success', context: 'sluice' });
    assert.equal(status.status, 403);
    assert.equal(status.body.message, 'Resource not accessible by integration');
    assert.equal((await call('POST', '/issues', { title: 'hello' })).status, 403);
  });

  test('an installation without the deployments permission cannot create a Deployment; one with only read cannot write check runs', async () => {
    const call = await connect({ checks: 'read', contents: 'read', metadata: 'read' });
    const deployment = await call('POST', '/deployments', { ref: SHA, environment: 'dev' });
    assert.deepEqual([deployment.status, deployment.body.message], [403, 'Resource not accessible by integration']);
    const run = await call('POST', '/check-runs', { name: 'Sluice: build', head_sha: SHA });
    assert.equal(run.status, 403);
  });
});
