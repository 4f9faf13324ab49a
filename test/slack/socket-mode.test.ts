import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buttonClickPayload, slashCommandFields } from '../helpers/slack-requests.ts';
import { ANN, startSlackSluice } from '../helpers/slack-sluice.ts';

test('in Socket Mode Sluice connects out to Slack, and a click and a command arrive over the socket as over HTTP', async () => {
  const app = await startSlackSluice({ socketMode: true });
  try {
    assert.equal(app.slack.socketConnections, 1, 'connected at start-up');
    assert.equal(app.slack.called('apps.connections.open').length, 1);
    const http = await fetch(`${app.sluice.url}/slack/events`, { method: 'POST', body: '' });
    assert.equal(http.status, 404, 'no HTTP endpoint in Socket Mode');

    await app.push(1, 'v1');
    const card = app.card();
    await app.slack.sendEnvelope('interactive', buttonClickPayload(card, 'sluice_approve', ANN));
    await app.sluice.idle();
    assert.equal(readFileSync(join(app.dir, 'srv-prod', 'current', 'started'), 'utf8'), 'v1\n');
    assert.match(app.slack.messages.get(card.ts)?.text ?? '', /^✅ Approved for production/);

    await app.slack.sendEnvelope(
      'slash_commands',
      slashCommandFields('status', ANN, app.slack.responseUrl('over-the-socket')),
    );
    await app.sluice.idle();
    const answer = app.slack.responses.find((r) => r.id === 'over-the-socket');
    assert.match(String(answer?.body.text), /^\*acme\/shop\* <[^|]+\|#1> `[0-9a-f]{7}` main — ✅ succeeded$/);

    await app.sluice.close();
    for (let i = 0; i < 100 && app.slack.socketConnections > 0; i++) await new Promise((done) => setTimeout(done, 20));
    assert.equal(app.slack.socketConnections, 0, 'stopping Sluice closes the socket');
  } finally {
    await app.close();
  }
});
