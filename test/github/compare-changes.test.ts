/**
 * The commits an approval brings, from GitHub's compare: its newest 250 at
 * once, the older ones by pages, up to a bound; past the bound the list is
 * short of the total, which the approval card then says (PRODUCT K1, K2).
 */
import assert from 'node:assert/strict';
import { createSign } from 'node:crypto';
import { afterEach, test } from 'node:test';
import { Octokit } from '@octokit/rest';
import { compareChanges, MAX_OLDER_PAGES } from '../../src/github/compare-changes.ts';
import type { InstallationOctokit } from '../../src/github/github-api.ts';
import { GithubStandIn } from '../helpers/github-stand-in.ts';

let github: GithubStandIn | undefined;
afterEach(async () => {
  await github?.stop();
  github = undefined;
});

const REPO = 'acme/shop';
const shaOf = (n: number) => n.toString(16).padStart(40, '0');

async function installationOctokit(stand: GithubStandIn): Promise<InstallationOctokit> {
  const now = Math.floor(Date.now() / 1000);
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ iat: now - 30, exp: now + 300, iss: stand.appId })}`;
  const jwt = `${unsigned}.${createSign('RSA-SHA256').update(unsigned).sign(stand.privateKey, 'base64url')}`;
  const app = new Octokit({ auth: jwt, baseUrl: stand.apiUrl });
  const { data } = await app.rest.apps.createInstallationAccessToken({ installation_id: 77 });
  return new Octokit({ auth: data.token, baseUrl: stand.apiUrl }) as unknown as InstallationOctokit;
}

async function history(commits: number): Promise<InstallationOctokit> {
  github = await new GithubStandIn().start();
  github.install(REPO);
  for (let n = 1; n <= commits; n++)
    github.addCommit(
      REPO,
      shaOf(n),
      {},
      { tarball: false, author: { name: `Dev ${n}`, email: `dev${n}@example.com` } },
    );
  return installationOctokit(github);
}

const compares = () => github!.calls.filter((c) => c.path.includes('/compare/')).map((c) => c.query.page ?? 'unpaged');

test('300 commits: the newest 250, then the older by pages of 100; every commit once, oldest first', async () => {
  const changes = await compareChanges(await history(301), REPO, shaOf(1), shaOf(301));
  assert.equal(changes.total, 300);
  assert.deepEqual(
    changes.commits.map((c) => c.sha),
    Array.from({ length: 300 }, (_, i) => shaOf(i + 2)),
  );
  assert.deepEqual(changes.commits[0]?.people, [
    { role: 'author', email: 'dev2@example.com' },
    { role: 'committer', email: 'dev2@example.com' },
  ]);
  assert.deepEqual(compares(), ['unpaged', '1']);
});

test(`past ${MAX_OLDER_PAGES} pages of older commits, the list stops short of the total, keeping the newest`, async () => {
  const commits = 250 + MAX_OLDER_PAGES * 100 + 150;
  const changes = await compareChanges(await history(commits + 1), REPO, shaOf(1), shaOf(commits + 1));
  assert.equal(changes.total, commits);
  assert.equal(changes.commits.length, 250 + MAX_OLDER_PAGES * 100);
  assert.equal(changes.commits.at(-1)?.sha, shaOf(commits + 1), 'the newest is last');
  assert.equal(changes.commits[0]?.sha, shaOf(2), 'the oldest pages come first');
  assert.equal(new Set(changes.commits.map((c) => c.sha)).size, changes.commits.length, 'none twice');
  assert.equal(compares().length, 1 + MAX_OLDER_PAGES);
});

test('250 or fewer: one unpaged compare', async () => {
  const changes = await compareChanges(await history(251), REPO, shaOf(1), shaOf(251));
  assert.deepEqual([changes.total, changes.commits.length, compares()], [250, 250, ['unpaged']]);
});
