import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SlackApi } from '../../src/slack/slack-api.ts';
import { slackPeople } from '../../src/slack/slack-people.ts';

function countingApi(groups: Record<string, string[]>, emails: Record<string, string>, failFirst = false) {
  const calls: string[] = [];
  let failing = failFirst;
  const api: SlackApi = {
    postMessage: () => Promise.reject(new Error('unused')),
    updateMessage: () => Promise.reject(new Error('unused')),
    postEphemeral: () => Promise.reject(new Error('unused')),
    async groupMembers(group) {
      calls.push(`group ${group}`);
      if (failing) {
        failing = false;
        throw new Error('ratelimited');
      }
      return groups[group] ?? [];
    },
    async userByEmail(email) {
      calls.push(`email ${email}`);
      return emails[email];
    },
  };
  return { api, calls };
}

test('approvers: listed users, members of listed groups, or everyone with "*"; group members are asked once a minute', async () => {
  let now = 0;
  const { api, calls } = countingApi({ S0REL: ['U0CAROL'] }, {});
  const people = slackPeople(api, {}, () => now);
  assert.equal(await people.isAmong('U0ANN', ['U0ANN', 'S0REL']), true);
  assert.deepEqual(calls, [], 'a listed user needs no lookup');
  assert.equal(await people.isAmong('U0CAROL', ['U0ANN', 'S0REL']), true);
  assert.equal(await people.isAmong('U0MALLORY', ['U0ANN', 'S0REL']), false);
  assert.equal(await people.isAmong('U0MALLORY', ['*']), true);
  assert.deepEqual(calls, ['group S0REL']);
  now += 61_000;
  await people.isAmong('U0CAROL', ['S0REL']);
  assert.deepEqual(calls, ['group S0REL', 'group S0REL']);
});

test('a failed lookup is not remembered: the next click asks again', async () => {
  const { api, calls } = countingApi({ S0REL: ['U0CAROL'] }, {}, true);
  const people = slackPeople(api);
  await assert.rejects(people.isAmong('U0CAROL', ['S0REL']), /ratelimited/);
  assert.equal(await people.isAmong('U0CAROL', ['S0REL']), true);
  assert.deepEqual(calls, ['group S0REL', 'group S0REL']);
});

test('the author: the operator’s mapping by the GitHub login GitHub tells or e-mail (any case) first, then Slack’s e-mail lookup; never by the commit’s name', async () => {
  const { api, calls } = countingApi({}, { 'bob@example.com': 'U0BOB' });
  const people = slackPeople(api, { Alice: 'U0ALICE', 'dave@corp.example': 'U0DAVE' });
  assert.equal(
    await people.authorOf({ sha: 'a', author: 'alice', authorLogin: 'alice', authorEmail: 'alice@elsewhere.example' }),
    'U0ALICE',
  );
  assert.equal(await people.authorOf({ sha: 'a', author: 'dave', authorEmail: 'Dave@Corp.example' }), 'U0DAVE');
  // A commit's free-text name is no login: `git commit --author "Alice <x@y>"` names nobody.
  assert.equal(await people.authorOf({ sha: 'a', author: 'Alice' }), undefined);
  assert.deepEqual(calls, []);
  assert.equal(await people.authorOf({ sha: 'a', author: 'bob', authorEmail: 'bob@example.com' }), 'U0BOB');
  assert.equal(await people.authorOf({ sha: 'a', author: 'eve', authorLogin: 'eve' }), undefined);
  assert.deepEqual(calls, ['email bob@example.com']);
});

test('whoever brought a change is matched by Slack id, by the mapping of a login or e-mail, else by e-mail in Slack', async () => {
  const { api, calls } = countingApi({}, { 'carol@example.com': 'U0CAROL' });
  const people = slackPeople(api, { 'Dave-GH': 'U0DAVE' });
  assert.equal(await people.slackUserOf({ slack: 'U0ANN', login: 'dave-gh' }), 'U0ANN');
  assert.equal(await people.slackUserOf({ login: 'dave-gh', email: 'dave@example.com' }), 'U0DAVE');
  assert.equal(await people.slackUserOf({ login: 'carol', email: 'carol@example.com' }), 'U0CAROL');
  assert.equal(await people.slackUserOf({ login: 'mallory' }), undefined);
  assert.deepEqual(calls, ['email carol@example.com']);
});
