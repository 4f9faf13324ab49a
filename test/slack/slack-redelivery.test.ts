/**
 * Slack sends a click again when it missed the acknowledgement: over HTTP
 * with `X-Slack-Retry-Num`, in Socket Mode as the same envelope with
 * `retry_attempt`. Sluice acknowledges first (the stand-in gives up on an
 * envelope after 3 seconds) and acts on a click once. In Socket Mode, a
 * `disconnect` envelope makes Sluice connect again, and clicks go on.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buttonClick, buttonClickPayload, sendSlackRequest, signSlackRequest } from '../helpers/slack-requests.ts';
import { type SlackSluice, slackSluicePerTest } from '../helpers/slack-sluice.ts';
import { ANN, MALLORY } from '../helpers/slack-workspace.ts';

const startApp = slackSluicePerTest();

const served = (started: SlackSluice) => readFileSync(join(started.dir, 'srv-prod', 'current', 'started'), 'utf8');

test('over HTTP, a click Slack sends again with X-Slack-Retry-Num is answered 200 and does nothing twice', async () => {
  const started = await startApp();
  await started.push(1, 'v1');
  const card = started.card();
  const refused = buttonClick(card, 'sluice_approve', MALLORY);
  const approved = buttonClick(card, 'sluice_approve', ANN);
  for (const body of [refused, approved]) {
    for (const retry of [undefined, '1', '2']) {
      const request = signSlackRequest(body);
      if (retry) Object.assign(request.headers, { 'x-slack-retry-num': retry, 'x-slack-retry-reason': 'http_timeout' });
      assert.equal((await sendSlackRequest(started.sluice.url, request)).status, 200);
      await started.sluice.idle();
    }
  }
  assert.equal(served(started), 'v1\n');
  assert.deepEqual(
    started.slack.called('chat.postEphemeral').map((c) => c.args.user),
    [MALLORY],
    'Mallory is told once, and Ann is not told the gate is closed',
  );
  assert.equal(
    started.logs.filter((line) => /^Slack delivered a button click again \(retry [12]\)/.test(line)).length,
    4,
  );
});

test('in Socket Mode, a redelivered envelope is acknowledged and does nothing twice, and after a disconnect envelope Sluice connects again', async () => {
  const started = await startApp({ socketMode: true });
  await started.push(1, 'v1');
  const card = started.card();
  const first = await started.slack.sendEnvelope('interactive', buttonClickPayload(card, 'sluice_approve', MALLORY));
  await started.sluice.idle();
  await started.slack.sendEnvelope('interactive', {}, { of: first.envelope });
  await started.sluice.idle();
  assert.equal(started.slack.called('chat.postEphemeral').length, 1, 'the redelivery was not answered again');

  await started.slack.disconnect('refresh_requested');
  assert.equal(started.slack.called('apps.connections.open').length, 2, 'Sluice asked Slack for a new connection');
  assert.equal(started.slack.socketConnections, 1);
  await started.slack.sendEnvelope('interactive', buttonClickPayload(card, 'sluice_approve', ANN));
  await started.sluice.idle();
  assert.equal(served(started), 'v1\n');
});
