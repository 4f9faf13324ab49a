/**
 * The GitHub stand-in refuses what GitHub refuses, with GitHub's status and
 * message, so that tests against it cannot pass what GitHub would fail.
 */
import assert from 'node:assert/strict';
import { createSign } from 'node:crypto';
import { afterEach, describe, test } from 'node:test';
import { GithubStandIn } from '../helpers/github-stand-in.ts';
import type { Permissions } from '../helpers/github-rules.ts';
import { SECONDARY_RATE_LIMIT_MESSAGE } from '../helpers/github-stand-in/limit-writes.ts';
import { hasRoute } from '../helpers/github-stand-in/match-route.ts';

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
  github.addCommit(REPO, SHA, {}, { tarball: false });
  github.install(REPO);
  const now = Math.floor(Date.now() / 1000);
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ iat: now - 30, exp: now + 300, iss: github.appId })}`;
  const jwt = `${unsigned}.${createSign('RSA-SHA256').update(unsigned).sign(github.privateKey, 'base64url')}`;
  const tokens = await fetch(`${github.apiUrl}/app/installations/77/access_tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${jwt}` },
  });
  assert.equal(tokens.status, 201);
  const { token } = (await tokens.json()) as { token: string };
  const stand = github;
  return async (method: string, path: string, body?: unknown, options: { raw?: string; absolute?: boolean } = {}) => {
    const response = await fetch(options.absolute ? `${stand.apiUrl}${path}` : `${stand.apiUrl}/repos/${REPO}${path}`, {
      method,
      headers: { authorization: `token ${token}`, 'content-type': 'application/json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
      ...(options.raw !== undefined && { body: options.raw }),
    });
    return {
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as Record<string, unknown>,
    };
  };
}

const hangul = (bytes: number) => '한'.repeat(Math.floor(bytes / 3));

describe('the GitHub stand-in refuses check runs as GitHub does', () => {
  test('a summary or text over 65,535 bytes of UTF-8 is refused with 422, though it has far fewer characters', async () => {
    const call = await connect();
    const run = (output: Record<string, string>) =>
      call('POST', '/check-runs', { name: 'Sluice: build', head_sha: SHA, output: { title: 'build', ...output } });
    const summary = await run({ summary: hangul(65_538) });
    assert.equal(summary.status, 422);
    assert.deepEqual(summary.body.errors, [
      {
        resource: 'CheckRun',
        code: 'custom',
        field: 'summary',
        message: 'summary exceeds a maximum bytesize of 65535',
      },
    ]);
    assert.equal(summary.body.message, 'Validation Failed');
    const text = await run({ summary: 'ok', text: `${'🚀'.repeat(16_383)}abcd` });
    assert.equal(text.status, 422, 'four bytes an emoji: 65,532 bytes and four more');
    assert.match(JSON.stringify(text.body.errors), /text exceeds a maximum bytesize of 65535/);
    assert.equal(
      (await run({ summary: hangul(65_535), text: `${'🚀'.repeat(16_383)}abc` })).status,
      201,
      'exactly at the limit is fine',
    );

    const created = await run({ summary: 'ok' });
    const update = await call('PATCH', `/check-runs/${String(created.body.id)}`, {
      output: { title: 'build', summary: hangul(65_538) },
    });
    assert.equal(update.status, 422);
  });

  test('annotations: at most 50 a request, each with its path, lines, level and message', async () => {
    const call = await connect();
    const annotation = {
      path: '.github/sluice.yml',
      start_line: 1,
      end_line: 1,
      annotation_level: 'failure',
      message: 'no',
    };
    const run = (annotations: unknown[]) =>
      call('POST', '/check-runs', {
        name: 'Sluice: pipeline',
        head_sha: SHA,
        output: { title: 't', summary: 's', annotations },
      });
    assert.equal((await run(Array(50).fill(annotation))).status, 201);
    assert.equal((await run(Array(51).fill(annotation))).status, 422);
    assert.equal((await run([{ ...annotation, annotation_level: 'error' }])).status, 422);
    assert.equal((await run([{ ...annotation, title: 'x'.repeat(256) }])).status, 422);
    assert.equal(
      (await run([{ ...annotation, end_line: 2, start_column: 1 }])).status,
      422,
      'columns only on one line',
    );
    const { path: _path, ...noPath } = annotation;
    assert.equal((await run([noPath])).status, 422);
  });

  test('a commit the repository does not have is 422 "No commit found for SHA", as GitHub answers it', async () => {
    const call = await connect();
    const missing = 'c'.repeat(40);
    const reply = await call('GET', `/commits/${missing}`);
    assert.equal(reply.status, 422);
    assert.equal(reply.body.message, `No commit found for SHA: ${missing}`);
    assert.match(String(reply.body.documentation_url), /commits#get-a-commit$/);
    assert.equal((await call('GET', `/commits/${SHA}`)).status, 200, 'a commit it has');
  });

  test('a check run for a commit the repository does not have is 422 "No commit found for SHA"', async () => {
    const call = await connect();
    const missing = 'b'.repeat(40);
    const reply = await call('POST', '/check-runs', { name: 'Sluice: build', head_sha: missing });
    assert.equal(reply.status, 422);
    assert.equal(reply.body.message, `No commit found for SHA: ${missing}`);
    assert.equal(
      (await call('POST', '/check-runs', { name: 'Sluice: build', head_sha: SHA })).status,
      201,
      'a commit it has',
    );
  });

  test('a check run of another repository is 404 from this one’s path, though its id exists', async () => {
    const call = await connect();
    github!.addCommit('acme/other', SHA, {}, { tarball: false });
    github!.install('acme/other');
    const other = await call(
      'POST',
      '/repos/acme/other/check-runs',
      { name: 'Sluice: build', head_sha: SHA },
      { absolute: true },
    );
    assert.equal(other.status, 201);
    const reply = await call('PATCH', `/check-runs/${String(other.body.id)}`, { status: 'in_progress' });
    assert.equal(reply.status, 404);
    assert.equal(
      github!.checkRun(Number(other.body.id))?.status,
      'queued',
      'the other repository’s check run is unchanged',
    );
  });

  test('a conclusion completes the check run, whatever status comes with it; completed_at without a conclusion is 422', async () => {
    const call = await connect();
    const created = await call('POST', '/check-runs', { name: 'Sluice: build', head_sha: SHA, conclusion: 'success' });
    assert.equal(created.body.status, 'completed');
    const running = await call('POST', '/check-runs', { name: 'Sluice: dev', head_sha: SHA, status: 'in_progress' });
    const updated = await call('PATCH', `/check-runs/${String(running.body.id)}`, {
      status: 'in_progress',
      conclusion: 'failure',
    });
    assert.equal(updated.body.status, 'completed');
    assert.equal(github!.checkRun(Number(running.body.id))?.status, 'completed');
    const early = await call('POST', '/check-runs', {
      name: 'Sluice: prod',
      head_sha: SHA,
      completed_at: new Date().toISOString(),
    });
    assert.equal(early.status, 422);
    assert.match(String(early.body.message), /conclusion is required when completed_at is given/);
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
    assert.equal(
      (await call('POST', `/deployments/${id}/statuses`, { state: 'success', description: 'x'.repeat(141) })).status,
      422,
    );
    assert.equal(
      (await call('POST', `/deployments/${id}/statuses`, { state: 'success', description: 'x'.repeat(140) })).status,
      201,
    );
    assert.deepEqual(
      github!.deployments(REPO).map((d) => d.statuses.map((s) => s.state)),
      [['success']],
    );
  });

  test('a Deployment of a ref the repository does not have is 422 "No ref found for"; one of a branch gets the branch’s commit', async () => {
    const call = await connect();
    const missing = await call('POST', '/deployments', {
      ref: 'b'.repeat(40),
      environment: 'dev',
      required_contexts: [],
    });
    assert.equal(missing.status, 422);
    assert.equal(missing.body.message, `No ref found for: ${'b'.repeat(40)}`);
    assert.equal(github!.deployments(REPO).length, 0);
    github!.setBranch(REPO, 'main', SHA);
    const branch = await call('POST', '/deployments', { ref: 'main', environment: 'dev', required_contexts: [] });
    assert.equal(branch.status, 201);
    assert.equal(branch.body.sha, SHA);
  });

  test('a Deployment without required_contexts while a check of its commit has not succeeded is 409, as GitHub answers', async () => {
    const call = await connect();
    const run = await call('POST', '/check-runs', { name: 'Sluice: build', head_sha: SHA, status: 'in_progress' });
    const conflict = await call('POST', '/deployments', { ref: SHA, environment: 'dev' });
    assert.equal(conflict.status, 409);
    assert.equal(conflict.body.message, `Conflict: Commit status checks failed for ${SHA}.`);
    assert.deepEqual(conflict.body.errors, [
      {
        contexts: [{ context: 'Sluice: build', state: 'pending' }],
        resource: 'Deployment',
        field: 'required_contexts',
        code: 'invalid',
      },
    ]);
    assert.equal(
      (await call('POST', '/deployments', { ref: SHA, environment: 'dev', required_contexts: [] })).status,
      201,
      'required_contexts: [] checks nothing',
    );
    await call('PATCH', `/check-runs/${String(run.body.id)}`, { status: 'completed', conclusion: 'success' });
    assert.equal(
      (await call('POST', '/deployments', { ref: SHA, environment: 'dev' })).status,
      201,
      'every check succeeded',
    );
  });

  test('a new success marks earlier successful Deployments of the environment inactive, unless auto_inactive is off, they are production or transient', async () => {
    const call = await connect();
    const deploy = async (
      environment: string,
      options: Record<string, unknown> = {},
      status: Record<string, unknown> = {},
    ) => {
      const created = await call('POST', '/deployments', { ref: SHA, environment, required_contexts: [], ...options });
      assert.equal(
        (await call('POST', `/deployments/${String(created.body.id)}/statuses`, { state: 'success', ...status }))
          .status,
        201,
      );
    };
    await deploy('dev');
    await deploy('dev', { transient_environment: true });
    await deploy('production');
    await deploy('dev', {}, { auto_inactive: false });
    await deploy('production');
    await deploy('dev');
    const latest = github!
      .deployments(REPO)
      .map((d) => `${d.environment}${d.transient ? ' (transient)' : ''}: ${d.statuses.at(-1)?.state}`);
    assert.deepEqual(latest, [
      'dev: inactive',
      'dev (transient): success',
      'production: success',
      'dev: inactive',
      'production: success',
      'dev: success',
    ]);
    assert.deepEqual(
      github!.deployments(REPO)[0]!.statuses.map((s) => `${s.state} by ${s.by}`),
      ['success by app', 'inactive by auto_inactive'],
      'an inactive one stays inactive',
    );
  });

  test('environment names compare without case, as on GitHub: a success in "Dev" retires the last one in "dev"', async () => {
    const call = await connect();
    const deploy = async (environment: string) => {
      const created = await call('POST', '/deployments', { ref: SHA, environment, required_contexts: [] });
      const status = await call('POST', `/deployments/${String(created.body.id)}/statuses`, { state: 'success' });
      assert.equal(status.status, 201);
      return created.body;
    };
    await deploy('dev');
    await deploy('Dev');
    await deploy('staging');
    await deploy('DEV');
    assert.deepEqual(
      github!
        .deployments(REPO)
        .map((d) => `${d.environment}: ${d.statuses.map((s) => `${s.state} by ${s.by}`).join(', ')}`),
      [
        'dev: success by app, inactive by auto_inactive',
        'Dev: success by app, inactive by auto_inactive',
        'staging: success by app',
        'DEV: success by app',
      ],
    );
    // "Production" is GitHub's production environment too, and so is left alone by auto_inactive.
    const production = await deploy('Production');
    assert.equal(production.production_environment, true);
  });
});

describe('the GitHub stand-in grants an installation what the app manifest asks for, and no more', () => {
  test('the token carries app.yml’s permissions; an endpoint needing another is 403 "Resource not accessible by integration"', async () => {
    const call = await connect();
    assert.deepEqual(github!.permissions, {
      checks: 'write',
      contents: 'read',
      deployments: 'write',
      metadata: 'read',
    });
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

describe('the GitHub stand-in takes only what GitHub’s OpenAPI description takes', () => {
  test('every route it serves is an operation of the description', async () => {
    github = new GithubStandIn();
    assert.ok(github.routes.length >= 12);
    assert.deepEqual(
      github.routes.filter((key) => !hasRoute(key)),
      [],
    );
  });

  test('a path or method GitHub does not have is 404 "Not Found", as GitHub answers (not 405)', async () => {
    const call = await connect();
    const unknown = await call('GET', '/check-runz');
    assert.deepEqual(
      [unknown.status, unknown.body.message, unknown.body.documentation_url],
      [404, 'Not Found', 'https://docs.github.com/rest'],
    );
    assert.equal((await call('DELETE', '/check-runs', {})).status, 404, 'check-runs takes POST only');
    assert.equal((await call('GET', '/check-runs/abc')).status, 404, 'check_run_id is an integer');
    assert.equal((await call('GET', '/nowhere', undefined, { absolute: true })).status, 404);
  });

  test('a body is checked against the operation’s schema: required keys, types, enums, and no keys the schema does not list', async () => {
    const call = await connect();
    const create = (body: Record<string, unknown>) => call('POST', '/check-runs', body);
    const missing = await create({ head_sha: SHA });
    assert.deepEqual([missing.status, missing.body.message], [422, 'Invalid request.\n\n"name" wasn\'t supplied.']);
    assert.match(
      String(missing.body.documentation_url),
      /^https:\/\/docs\.github\.com\/rest\/.*#create-a-check-run$/,
      'the operation’s page, as the description links it',
    );
    const extra = await create({ name: 'Sluice: build', head_sha: SHA, colour: 'green' });
    assert.deepEqual([extra.status, extra.body.message], [422, 'Invalid request.\n\n"colour" is not a permitted key.']);
    const nested = await create({
      name: 'Sluice: build',
      head_sha: SHA,
      output: { title: 't', summary: 's', footer: 'f' },
    });
    assert.equal(nested.body.message, 'Invalid request.\n\n"footer" is not a permitted key.');
    const wrongType = await create({ name: 'Sluice: build', head_sha: 42 });
    assert.equal(wrongType.body.message, "Invalid request.\n\nFor 'properties/head_sha', 42 is not a string.");
    const badDate = await create({ name: 'Sluice: build', head_sha: SHA, started_at: 'yesterday' });
    assert.equal(badDate.status, 422, 'started_at is a date-time');
    const state = await call('POST', '/deployments', { ref: SHA, required_contexts: 'none' });
    assert.equal(
      state.body.message,
      'Invalid request.\n\nFor \'properties/required_contexts\', "none" is not an array.',
    );
    assert.equal(
      (await call('POST', '/deployments', { ref: SHA, required_contexts: [], description: null })).status,
      201,
      'nullable fields take null',
    );
    assert.equal(
      (await call('POST', '/deployments', { ref: SHA, required_contexts: [], payload: { any: { thing: 1 } } })).status,
      201,
      'payload allows any keys, as its schema says',
    );
  });

  test('a body that is not JSON is 400 "Problems parsing JSON"; query parameters are checked against their schemas', async () => {
    const call = await connect();
    const broken = await call('POST', '/check-runs', undefined, { raw: '{"name": ' });
    assert.deepEqual([broken.status, broken.body.message], [400, 'Problems parsing JSON']);
    github!.addCommit(REPO, SHA, { 'a.txt': 'a' }, { tarball: false });
    const paged = await call('GET', `/compare/${SHA}...${SHA}?per_page=many`);
    assert.deepEqual(
      [paged.status, paged.body.message],
      [422, 'Invalid request.\n\nFor \'per_page\', "many" is not an integer.'],
    );
  });
});

describe('the GitHub stand-in compares as GitHub does', () => {
  const shaOf = (n: number) => n.toString(16).padStart(40, '0');

  test('unpaged, the newest 250 commits, oldest first, with the full total; paged, every commit in order, with a Link to the next page', async () => {
    const call = await connect();
    for (let n = 1; n <= 301; n++) github!.addCommit(REPO, shaOf(n), {}, { tarball: false });
    const basehead = `${shaOf(1)}...${shaOf(301)}`;
    const unpaged = await call('GET', `/compare/${basehead}`);
    const shas = (answer: { body: Record<string, unknown> }) =>
      (answer.body.commits as Array<{ sha: string }>).map((c) => c.sha);
    assert.equal(unpaged.body.total_commits, 300);
    assert.deepEqual(
      shas(unpaged),
      Array.from({ length: 250 }, (_, i) => shaOf(i + 52)),
      'the last is the newest of the whole comparison',
    );
    const first = await call('GET', `/compare/${basehead}?per_page=100&page=1`);
    assert.deepEqual(
      shas(first),
      Array.from({ length: 100 }, (_, i) => shaOf(i + 2)),
    );
    assert.match(String(first.headers.get('link')), /[?&]page=2>; rel="next"/);
    const last = await call('GET', `/compare/${basehead}?per_page=100&page=3`);
    assert.deepEqual([shas(last).length, last.headers.get('link')], [100, null]);
  });
});

describe('the GitHub stand-in keeps GitHub’s secondary rate limit when a test asks for it', () => {
  test('writes above the budget are refused with Retry-After and GitHub’s message until that time has passed', async () => {
    const call = await connect();
    github!.limitWrites({ writes: 2, perMs: 60_000, retryAfterSeconds: 1, status: 429 });
    const run = () => call('POST', '/check-runs', { name: 'Sluice: build', head_sha: SHA });
    assert.deepEqual([(await run()).status, (await run()).status], [201, 201]);
    const refused = await run();
    assert.deepEqual(
      [refused.status, refused.headers.get('retry-after'), refused.body.message],
      [429, '1', SECONDARY_RATE_LIMIT_MESSAGE],
    );
    assert.equal((await call('GET', '/check-runs/abc')).status, 404, 'reads are not content-creating');
    const refusedAt = github!.calls.findLast((c) => c.status === 429)!.at;
    let again = await run();
    while (again.status === 429) again = await run();
    assert.equal(again.status, 201);
    assert.ok(github!.calls.at(-1)!.at - refusedAt >= 1000, 'taken again only once Retry-After had passed');
  });
});
