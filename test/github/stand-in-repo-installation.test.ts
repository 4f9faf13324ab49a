/**
 * The GitHub stand-in's GET /repos/{owner}/{repo}/installation is as strict
 * as GitHub's: only the app itself (its JWT) may ask, an installation token
 * is refused, and a repository the app is not installed on is a 404.
 */
import assert from 'node:assert/strict';
import { createSign } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { GithubStandIn } from '../helpers/github-stand-in.ts';

let github: GithubStandIn;
before(async () => {
  github = await new GithubStandIn().start();
  github.install('acme/shop', 77);
});
after(async () => github.stop());

function appJwt(key: string, appId: number): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ iat: now - 60, exp: now + 540, iss: appId })}`;
  return `${unsigned}.${createSign('RSA-SHA256').update(unsigned).sign(key, 'base64url')}`;
}

const ask = (repo: string, authorization?: string) =>
  fetch(`${github.apiUrl}/repos/${repo}/installation`, {
    headers: { accept: 'application/vnd.github+json', ...(authorization && { authorization }) },
  });

describe('the stand-in’s repository installation', () => {
  test('the app’s JWT finds the installation of a repository it is installed on', async () => {
    const reply = await ask('acme/shop', `Bearer ${appJwt(github.privateKey, github.appId)}`);
    assert.equal(reply.status, 200);
    const body = (await reply.json()) as { id: number; app_id: number; account: { login: string } };
    assert.equal(body.id, 77);
    assert.equal(body.app_id, github.appId);
    assert.equal(body.account.login, 'acme');
  });

  test('a repository the app is not installed on is a 404', async () => {
    const reply = await ask('acme/other', `Bearer ${appJwt(github.privateKey, github.appId)}`);
    assert.equal(reply.status, 404);
    assert.equal(((await reply.json()) as { message: string }).message, 'Not Found');
  });

  test('no JWT, an installation token, or a JWT signed by another key is refused with 401', async () => {
    const token = (await (
      await fetch(`${github.apiUrl}/app/installations/77/access_tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${appJwt(github.privateKey, github.appId)}` },
      })
    ).json()) as { token: string };
    const stranger = new GithubStandIn().privateKey;
    for (const authorization of [undefined, `token ${token.token}`, `Bearer ${appJwt(stranger, github.appId)}`]) {
      const reply = await ask('acme/shop', authorization);
      assert.equal(reply.status, 401, `refused: ${authorization?.slice(0, 12) ?? 'no authorization'}`);
      assert.match(((await reply.json()) as { message: string }).message, /JSON web token could not be decoded/);
    }
  });
});
