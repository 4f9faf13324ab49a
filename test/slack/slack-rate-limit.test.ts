/**
 * Slack's rate limits: a method called too often is answered HTTP 429
 * `ratelimited` with `Retry-After`. Sluice waits at least that long before
 * it calls again, and then the call goes through — also with the error
 * retries off, as these tests run.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { slackSluicePerTest } from '../helpers/slack-sluice.ts';
import { ANN, CHANNEL, MALLORY } from '../helpers/slack-workspace.ts';

const startApp = slackSluicePerTest();

test('a rate-limited card and a rate-limited answer to a click are sent once Retry-After has passed, and no call comes before', async () => {
  const started = await startApp();
  started.slack.rateLimit('chat.postMessage', 1);
  await started.push(1, 'v1');
  const card = started.card();
  const [limited, sent] = started.slack.called('chat.postMessage');
  assert.ok(limited && sent, 'the card was posted again after the 429');
  assert.ok(sent.at - limited.at >= 1000, `posted again ${sent.at - limited.at} ms after a Retry-After of 1 s`);
  assert.equal(card.ts, started.slack.cards(CHANNEL)[0]?.ts, 'one card, not two');

  started.slack.rateLimit('chat.postEphemeral', 1);
  await started.click(card, 'approve', MALLORY);
  const [refused, told] = started.slack.called('chat.postEphemeral');
  assert.ok(refused && told && told.at - refused.at >= 1000);
  assert.match(String(told.args.text), /^You are not one of the approvers/);
  assert.equal(started.slack.earlyCalls, 0, 'Sluice never called before Retry-After had passed');
  assert.deepEqual(
    started.slack.rateLimited.map((r) => r.method),
    ['chat.postMessage', 'chat.postEphemeral'],
  );
  assert.ok(
    started.logs.every((line) => !/ratelimited|rate limit/i.test(line) || !/could not/.test(line)),
    `nothing failed: ${JSON.stringify(started.logs)}`,
  );
  await started.click(card, 'approve', ANN);
  assert.match(started.slack.messages.get(card.ts)?.text ?? '', /^✅ Approved for production/);
});
