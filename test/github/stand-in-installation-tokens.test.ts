/**
 * The GitHub stand-in scopes installation tokens as GitHub does: a token
 * reaches its installation's repositories only (404 "Not Found" elsewhere,
 * as GitHub hides what a token cannot see), `repositories` and
 * `repository_ids` narrow it and can never widen it (422), an unknown
 * installation is 404, and a token an hour old, or one GitHub never made,
 * is 401 "Bad credentials".
 */
import assert from 'node:assert/strict';
import { createSign } from 'node:crypto';
import { afterEach, describe, test } from 'node:test';
import { GithubStandIn } from '../helpers/github-stand-in.ts';

let github: GithubStandIn | undefined;
afterEach(async () => {
  await github?.stop();
  github = undefined;
});

function appJwt(stand: GithubStandIn): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ iat: now - 30, exp: now + 300, iss: stand.appId })}`;
  return `${unsigned}.${createSign('RSA-SHA256').update(unsigned).sign(stand.privateKey, 'base64url')}`;
}

/** The stand-in with acme/shop and acme/site in installation 77 and acme/elsewhere in 78. */
async function standIn(): Promise<GithubStandIn> {
  const stand = (github = await new GithubStandIn().start());
  for (const repo of ['acme/shop', 'acme/site', 'acme/elsewhere', 'acme/uninstalled'])
    stand.addCommit(repo, 'a'.repeat(40), {}, { tarball: false });
  stand.install(['acme/shop', 'acme/site']);
  stand.install('acme/elsewhere', 78);
  return stand;
}

async function tokenFor(stand: GithubStandIn, installation: number, body?: unknown) {
  const response = await fetch(`${stand.apiUrl}/app/installations/${installation}/access_tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${appJwt(stand)}`, 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function read(stand: GithubStandIn, token: string, repo: string) {
  const response = await fetch(`${stand.apiUrl}/repos/${repo}`, { headers: { authorization: `token ${token}` } });
  return { status: response.status, message: ((await response.json()) as { message?: string }).message };
}

describe('the stand-in’s installation tokens', () => {
  test('a token reaches its installation’s repositories and no other: 404 "Not Found" for the rest', async () => {
    const stand = await standIn();
    const made = await tokenFor(stand, 77);
    assert.equal(made.status, 201);
    const token = String(made.body.token);
    assert.equal((await read(stand, token, 'acme/shop')).status, 200);
    assert.equal((await read(stand, token, 'acme/site')).status, 200);
    for (const repo of ['acme/elsewhere', 'acme/uninstalled', 'acme/no-such-repo'])
      assert.deepEqual(await read(stand, token, repo), { status: 404, message: 'Not Found' }, repo);
    // Writes too: a check run on another installation's repository is not found either.
    const write = await fetch(`${stand.apiUrl}/repos/acme/elsewhere/check-runs`, {
      method: 'POST',
      headers: { authorization: `token ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Sluice: build', head_sha: 'a'.repeat(40) }),
    });
    assert.equal(write.status, 404);
    assert.deepEqual(stand.writes().at(-1)?.response?.message, 'Not Found');
  });

  test('it expires an hour after it was made, as its expires_at says: then 401 "Bad credentials"', async () => {
    const stand = await standIn();
    const made = await tokenFor(stand, 77);
    const expiresAt = Date.parse(String(made.body.expires_at));
    assert.ok(Math.abs(expiresAt - stand.now() - 3600_000) < 60_000, `expires_at ${String(made.body.expires_at)}`);
    const token = String(made.body.token);
    stand.passTime(3599_000);
    assert.equal((await read(stand, token, 'acme/shop')).status, 200, 'a second before the hour');
    stand.passTime(1_000);
    assert.deepEqual(await read(stand, token, 'acme/shop'), { status: 401, message: 'Bad credentials' });
    const fresh = await tokenFor(stand, 77);
    assert.equal((await read(stand, String(fresh.body.token), 'acme/shop')).status, 200, 'a new token works');
  });

  test('a token GitHub never made is 401 "Bad credentials"', async () => {
    const stand = await standIn();
    assert.deepEqual(await read(stand, 'ghs_made_up_by_someone', 'acme/shop'), {
      status: 401,
      message: 'Bad credentials',
    });
  });

  test('repositories and repository_ids narrow a token; a repository outside the installation is refused with 422', async () => {
    const stand = await standIn();
    const byName = await tokenFor(stand, 77, { repositories: ['site'] });
    assert.equal(byName.status, 201);
    assert.deepEqual(
      (byName.body.repositories as Array<{ full_name: string }>).map((r) => r.full_name),
      ['acme/site'],
    );
    assert.equal((await read(stand, String(byName.body.token), 'acme/site')).status, 200);
    assert.equal((await read(stand, String(byName.body.token), 'acme/shop')).status, 404);

    const siteId = (
      (await (
        await fetch(`${stand.apiUrl}/repos/acme/site`, {
          headers: { authorization: `token ${String(byName.body.token)}` },
        })
      ).json()) as { id: number }
    ).id;
    const byId = await tokenFor(stand, 77, { repository_ids: [siteId] });
    assert.equal(byId.status, 201);
    assert.equal((await read(stand, String(byId.body.token), 'acme/site')).status, 200);
    assert.equal((await read(stand, String(byId.body.token), 'acme/shop')).status, 404);

    for (const body of [{ repositories: ['elsewhere'] }, { repositories: ['shop', 'uninstalled'] }]) {
      const refused = await tokenFor(stand, 77, body);
      assert.equal(refused.status, 422, JSON.stringify(body));
      assert.match(String(refused.body.message), /not accessible to the parent installation/);
    }
  });

  test('an installation that does not exist is 404 "Not Found"', async () => {
    const stand = await standIn();
    const refused = await tokenFor(stand, 12345);
    assert.deepEqual([refused.status, refused.body.message], [404, 'Not Found']);
  });
});
