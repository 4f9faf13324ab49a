import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readSettings } from '../../src/config/read-settings.ts';

describe('the Slack settings', () => {
  test('a bot token with a signing secret is HTTP mode; with an app-level token, Socket Mode; none is no Slack', () => {
    assert.equal(readSettings({}).slack, undefined);
    assert.deepEqual(readSettings({ SLACK_BOT_TOKEN: 'xoxb-1-2', SLACK_SIGNING_SECRET: 's3cret' }).slack, { botToken: 'xoxb-1-2', signingSecret: 's3cret' });
    assert.deepEqual(readSettings({ SLACK_BOT_TOKEN: 'xoxb-1-2', SLACK_APP_TOKEN: 'xapp-1-A-3' }).slack, { botToken: 'xoxb-1-2', appToken: 'xapp-1-A-3' });
    assert.deepEqual(readSettings({ SLACK_BOT_TOKEN: 'xoxb-1-2', SLACK_SIGNING_SECRET: 's', SLACK_API_URL: 'http://127.0.0.1:9/api' }).slack, {
      botToken: 'xoxb-1-2',
      signingSecret: 's',
      apiUrl: 'http://127.0.0.1:9/api/',
    });
  });

  test('each mistake names the variable and where to find the right value', () => {
    assert.throws(() => readSettings({ SLACK_SIGNING_SECRET: 's' }), /^SettingsError: SLACK_SIGNING_SECRET is set but SLACK_BOT_TOKEN is not: set the bot token \(xoxb-…/);
    assert.throws(() => readSettings({ SLACK_BOT_TOKEN: 'xoxp-user-token', SLACK_SIGNING_SECRET: 's' }), /SLACK_BOT_TOKEN must be the bot token of the Slack app, which starts with "xoxb-"/);
    assert.throws(() => readSettings({ SLACK_BOT_TOKEN: 'xoxb-1' }), /Slack needs SLACK_SIGNING_SECRET .* or SLACK_APP_TOKEN for Socket Mode/);
    assert.throws(() => readSettings({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xoxb-1' }), /SLACK_APP_TOKEN must be an app-level token with the connections:write scope, which starts with "xapp-"/);
    assert.throws(() => readSettings({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', SLACK_API_URL: 'slack.com/api' }), /SLACK_API_URL must be a URL such as https:\/\/slack\.com\/api\/, not "slack\.com\/api"/);
  });
});
