/**
 * Slack takes 5 posts to a command's `response_url` within 30 minutes.
 * Sluice answers each command with one post, and when Slack refuses even
 * that (the URL used up or expired), the answer still reaches the user,
 * with the bot token.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sendSlackRequest, signSlackRequest, slashCommand } from '../helpers/slack-requests.ts';
import { slackSluicePerTest } from '../helpers/slack-sluice.ts';
import { ANN, CHANNEL } from '../helpers/slack-workspace.ts';

const startApp = slackSluicePerTest();

test('each command is answered with one post to its response URL; an answer Slack refuses there goes as an ephemeral message', async () => {
  const started = await startApp();
  await started.command('help', ANN);
  await started.command('status', ANN);
  assert.deepEqual(
    started.slack.responses.map((r) => r.id),
    ['command-1', 'command-2'],
    'one post per command',
  );

  const spent = started.slack.responseUrl('spent');
  for (let i = 0; i < 5; i++)
    await fetch(spent, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: `earlier ${i}` }),
    });
  const reply = await sendSlackRequest(started.sluice.url, signSlackRequest(slashCommand('help', ANN, spent)));
  assert.equal(reply.status, 200);
  await started.sluice.idle();
  assert.deepEqual(started.slack.refusedResponses, [{ id: 'spent', error: 'used_url' }]);
  const [ephemeral] = started.slack.called('chat.postEphemeral');
  assert.equal(ephemeral?.args.channel, CHANNEL);
  assert.equal(ephemeral?.args.user, ANN);
  assert.match(String(ephemeral?.args.text), /^\*Sluice commands\*/);
  assert.ok(
    started.logs.some((line) => line.startsWith('Slack refused the answer to /sluice help at its response URL')),
    JSON.stringify(started.logs),
  );
});
