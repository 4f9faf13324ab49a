/**
 * Slack refuses (or cuts) a message text over 40,000 characters; Sluice
 * cuts a long text itself, on a whole character and saying so, so that a
 * long reason or answer is shortened and still posted, never refused.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { webApi } from '@slack/bolt';
import { deployThread, REASON_LIMIT } from '../../src/slack/deploy-thread.ts';
import { webClientApi } from '../../src/slack/slack-api.ts';
import { fitMessageText, MESSAGE_TEXT_LIMIT } from '../../src/slack/slack-text.ts';
import { executionSummary } from '../helpers/execution-summary.ts';
import { BOT_TOKEN, DEFAULT_CHANNEL, SlackStandIn } from '../helpers/slack-stand-in.ts';
import { builtStage, twoStagePipeline } from '../store/fixtures/two-stage-pipeline.ts';

/** A log excerpt as a failing hook leaves it: many lines, some of them emoji (two UTF-16 units each). */
const logExcerpt = (characters: number) => {
  const lines: string[] = [];
  for (let n = 1; lines.join('\n').length < characters; n++) lines.push(`line ${n}: ❌ 🔥 cannot reach db-${n}`);
  return lines.join('\n');
};

describe('fitMessageText', () => {
  test('keeps a text within the limit whole, and cuts a longer one on a whole character with a note', () => {
    assert.equal(fitMessageText('short'), 'short');
    const exact = 'x'.repeat(MESSAGE_TEXT_LIMIT);
    assert.equal(fitMessageText(exact), exact);
    const long = '😀'.repeat(MESSAGE_TEXT_LIMIT);
    const cut = fitMessageText(long);
    assert.ok(cut.length <= MESSAGE_TEXT_LIMIT, `${cut.length} UTF-16 units`);
    assert.match(cut, /^(?:😀)+\n… \(cut short: the rest is on Sluice’s page\)$/u, 'no half of an emoji is left');
  });
});

describe('Slack messages Sluice sends', () => {
  let slack: SlackStandIn;
  before(async () => {
    slack = await new SlackStandIn().start();
    slack.invite(DEFAULT_CHANNEL);
    slack.join(DEFAULT_CHANNEL, ['U0ANN']);
  });
  after(() => slack.stop());

  test('a text over 40,000 characters is cut and posted, updated and sent privately, not refused with msg_too_long', async () => {
    const api = webClientApi(
      new webApi.WebClient(BOT_TOKEN, {
        slackApiUrl: slack.apiUrl,
        rejectRateLimitedCalls: true,
        retryConfig: { retries: 0 },
      }),
    );
    const text = logExcerpt(60_000);
    const posted = await api.postMessage({ channel: DEFAULT_CHANNEL, text });
    const message = slack.messages.get(posted.ts);
    assert.ok(message, 'posted');
    assert.ok(message.text.length <= MESSAGE_TEXT_LIMIT);
    assert.ok(message.text.startsWith(text.slice(0, 30_000)), 'it begins as the text does');
    assert.match(message.text, /cut short: the rest is on Sluice’s page\)$/);
    await api.updateMessage({ channel: DEFAULT_CHANNEL, ts: posted.ts, text: `${text}\nmore`, blocks: [] });
    assert.equal(message.history.length, 2, 'updated');
    await api.postEphemeral({ channel: DEFAULT_CHANNEL, user: 'U0ANN', text });
    assert.deepEqual(
      slack.calls.map((c) => c.method),
      ['chat.postMessage', 'chat.update', 'chat.postEphemeral'],
      'each taken the first time',
    );
  });
});

describe('a failed deploy’s thread reply', () => {
  test('quotes a long reason cut short, and keeps the link to the logs', () => {
    const reason = `start hook failed: ${logExcerpt(50_000)}`;
    const execution = executionSummary({
      status: 'failed',
      revision: { sha: 'c0ffee0123456789c0ffee0123456789c0ffee01', ref: 'main', message: 'm', author: 'alice' },
      definition: twoStagePipeline,
      stages: [
        builtStage,
        {
          name: 'production',
          status: 'failed',
          attempt: 1,
          actions: [
            { name: 'approve', status: 'succeeded', attempt: 1 },
            { name: 'deploy', status: 'failed', attempt: 1, reason, startedAt: 1_000, finishedAt: 9_000 },
          ],
        },
      ],
    });
    const replies = deployThread(execution, 'production', 'production', 'https://sluice.example.com/e/1');
    const failed = replies.find((r) => r.key.endsWith('/done'));
    assert.ok(failed, JSON.stringify(replies.map((r) => r.key)));
    assert.ok(failed.text.length < REASON_LIMIT + 200, `${failed.text.length} characters`);
    assert.ok(failed.text.includes('start hook failed: line 1: ❌ 🔥 cannot reach db-1'));
    assert.match(
      failed.text,
      /cut short: the rest is on Sluice’s page\)\. <https:\/\/sluice\.example\.com\/e\/1\|Logs>$/,
    );
  });
});
