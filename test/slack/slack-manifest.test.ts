import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import { SLACK_EVENTS_PATH, SLASH_COMMAND } from '../../src/slack/create-slack-app.ts';

interface Manifest {
  features: { slash_commands: Array<{ command: string; url: string }> };
  oauth_config: { scopes: { bot: string[] } };
  settings: { interactivity: { is_enabled: boolean; request_url: string }; socket_mode_enabled: boolean };
}

test('slack-manifest.yml creates the app Sluice expects: its command, its request URL and the scopes of the methods it calls', () => {
  const manifest = parse(readFileSync(new URL('../../slack-manifest.yml', import.meta.url), 'utf8')) as Manifest;
  assert.deepEqual(
    manifest.features.slash_commands.map((c) => c.command),
    [SLASH_COMMAND],
  );
  assert.equal(new URL(manifest.features.slash_commands[0]!.url).pathname, SLACK_EVENTS_PATH);
  assert.equal(manifest.settings.interactivity.is_enabled, true);
  assert.equal(new URL(manifest.settings.interactivity.request_url).pathname, SLACK_EVENTS_PATH);
  assert.equal(manifest.settings.socket_mode_enabled, false);
  // chat.postMessage, chat.update, chat.postEphemeral; the slash command; usergroups.users.list; users.lookupByEmail.
  assert.deepEqual([...manifest.oauth_config.scopes.bot].sort(), [
    'chat:write',
    'commands',
    'usergroups:read',
    'users:read',
    'users:read.email',
  ]);
});
