/**
 * README, Troubleshooting: "No approval card appears, and Sluice's log says
 * `Slack's chat.postMessage failed: not_in_channel`. Invite the bot to the
 * environment's `slack_channel`; Sluice posts the card at its next sweep."
 * And `channel_not_found` means `slack_channel` is not the channel's id.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { findActionSummary } from '../../src/store/store.ts';
import { type SlackSluice, slackSluicePerTest } from '../helpers/slack-sluice.ts';
import { ANN, CHANNEL } from '../helpers/slack-workspace.ts';

const startApp = slackSluicePerTest();

const channelLines = (started: SlackSluice, error: string) =>
  started.logs.filter((line) => line.includes(`Slack's chat.postMessage failed: ${error}`));

test('a channel the bot is not in: one log line says to invite it, the pipeline waits at the gate, and once invited the card comes at the next sweep and is approved', async () => {
  const started = await startApp();
  started.slack.channels.set(CHANNEL, { name: 'deploys', member: false });
  await started.push(1, 'v1');
  assert.deepEqual(started.slack.cards(CHANNEL), [], 'no card in a channel the bot is not in');
  await started.sluice.sweep();
  await started.sluice.idle();
  const lines = channelLines(started, 'not_in_channel');
  assert.equal(lines.length, 1, `said once, not at every sweep: ${JSON.stringify(started.logs)}`);
  assert.match(
    lines[0]!,
    new RegExp(
      `the bot is not in channel ${CHANNEL}: invite it there \\(/invite @Sluice in that channel\\)\\. Sluice posts the card at its next sweep`,
    ),
  );
  const execution = await started.sluice.store.getExecution(
    (await started.sluice.store.listExecutions({ limit: 1 }))[0]!.id,
  );
  const gate = execution && findActionSummary(execution, 'production', 'approve');
  assert.equal(gate?.status, 'awaiting_approval', 'the gate is still open, for when the card arrives');

  started.slack.channels.set(CHANNEL, { name: 'deploys', member: true });
  await started.sluice.sweep();
  await started.sluice.idle();
  const card = started.card();
  await started.click(card, 'approve', ANN);
  assert.equal(readFileSync(join(started.dir, 'srv-prod', 'current', 'started'), 'utf8'), 'v1\n');
});

test('a slack_channel that is no channel the bot can see: the log line says to put the channel id in the server config', async () => {
  const started = await startApp();
  started.slack.channels.delete(CHANNEL);
  await started.push(1, 'v1');
  const lines = channelLines(started, 'channel_not_found');
  assert.equal(lines.length, 1, JSON.stringify(started.logs));
  assert.match(
    lines[0]!,
    /set the environment's slack_channel in the server config to the channel's id \(its details in Slack show it, starting with C\)/,
  );
});

test('a bot token Slack no longer takes: one log line says to reinstall the app and set SLACK_BOT_TOKEN; once Slack takes it again the card comes', async () => {
  const started = await startApp();
  started.slack.revokeToken();
  await started.push(1, 'v1');
  await started.sluice.sweep();
  await started.sluice.idle();
  const lines = started.logs.filter((line) => line.includes('failed: token_revoked'));
  assert.equal(lines.length, 1, `said once, not at every sweep: ${JSON.stringify(started.logs)}`);
  assert.match(
    lines[0]!,
    /Slack no longer takes SLACK_BOT_TOKEN .*: reinstall the Slack app to the workspace .*set SLACK_BOT_TOKEN to its bot token and restart Sluice/,
  );
  assert.deepEqual(started.slack.cards(CHANNEL), []);

  started.slack.revokeToken(false);
  await started.sluice.sweep();
  await started.sluice.idle();
  await started.click(started.card(), 'approve', ANN);
  assert.equal(readFileSync(join(started.dir, 'srv-prod', 'current', 'started'), 'utf8'), 'v1\n');
});
