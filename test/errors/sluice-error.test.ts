import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ArtifactError, errorMessage, messageForPeople, SluiceError } from '../../src/sluice-error.ts';
import { ActionFailure } from '../../src/actions/action-result.ts';
import { CliError } from '../../src/cli/cli-error.ts';
import { ConfigError } from '../../src/config/config-problem.ts';
import { PrivateKeyError } from '../../src/config/read-private-key.ts';
import { SettingsError } from '../../src/config/read-settings.ts';
import { ServerRefusal } from '../../src/config/server-refusal.ts';
import { UnsafeArchiveError } from '../../src/deploy/check-archive.ts';
import { DeployFailure } from '../../src/deploy/host-steps.ts';
import { RolloutPlanError } from '../../src/deploy/plan-batches.ts';
import { ExecutorError } from '../../src/executor/executor.ts';
import { BranchPatternError } from '../../src/config/match-branch.ts';
import { DeliveryNotStoredError } from '../../src/github/receive-webhooks.ts';
import { EngineError } from '../../src/pipeline/engine.ts';
import { IllegalTransitionError } from '../../src/pipeline/states.ts';
import { SlackStartError } from '../../src/slack/create-slack-app.ts';
import { SlackApiError } from '../../src/slack/slack-api.ts';
import { StartError } from '../../src/service/start-error.ts';
import { StoreError } from '../../src/store/store.ts';

const cause = new Error('underneath');

const errors: [string, SluiceError][] = [
  ['ActionFailure', new ActionFailure('timed_out', 'ran out of time', { cause })],
  ['ArtifactError', new ArtifactError('PACK_FAILED', 'could not pack', { cause })],
  ['CliError', new CliError('usage', 2)],
  ['ConfigError', new ConfigError([{ file: 'sluice.yml', line: 3, col: 5, message: 'unknown key' }])],
  ['PrivateKeyError', new PrivateKeyError('no key', { cause })],
  ['SettingsError', new SettingsError('PORT is not a number')],
  ['ServerRefusal', new ServerRefusal('NOT_PERMITTED', 'evil/tool may not deploy to "production"')],
  ['UnsafeArchiveError', new UnsafeArchiveError('points out')],
  ['DeployFailure', new DeployFailure('host1 failed', { cause })],
  ['RolloutPlanError', new RolloutPlanError('no batches')],
  ['ExecutorError', new ExecutorError('HOST_UNREACHABLE', 'cannot reach', { cause })],
  ['BranchPatternError', new BranchPatternError('has a [ without ]')],
  ['DeliveryNotStoredError', new DeliveryNotStoredError('not stored', { cause })],
  ['EngineError', new EngineError('NOT_RETRYABLE', 'not retryable')],
  ['IllegalTransitionError', new IllegalTransitionError('stage', 'succeeded', 'start')],
  ['SlackStartError', new SlackStartError('Slack refused', { cause })],
  [
    'SlackApiError',
    new SlackApiError('chat.postMessage', Object.assign(new Error('x'), { data: { error: 'not_in_channel' } })),
  ],
  ['StartError', new StartError('PORT 3000 is in use', { cause })],
  ['StoreError', new StoreError('NOT_FOUND', 'no such execution')],
];

test('every error Sluice throws on purpose is a SluiceError named after its class, with a code', () => {
  for (const [name, error] of errors) {
    assert.ok(error instanceof SluiceError, name);
    assert.ok(error instanceof Error, name);
    assert.equal(error.name, name);
    assert.match(error.code, /^[A-Za-z_]+$/, name);
    assert.equal(messageForPeople(error), error.message, `${name} is shown as it is`);
  }
});

test('a wrapped error keeps what it wraps as its cause', () => {
  assert.equal(new DeployFailure('host1 failed', { cause }).cause, cause);
  assert.equal(new StoreError('DATABASE_UNREACHABLE', 'down', { cause }).cause, cause);
  const slack = new SlackApiError('chat.update', Object.assign(new Error('x'), { data: { error: 'ratelimited' } }));
  assert.equal(slack.message, "Slack's chat.update failed: ratelimited");
  assert.equal(slack.slackError, 'ratelimited');
});

test('a refused system call is shown as it is; any other error is a bug and keeps its stack', () => {
  let refusal: unknown;
  try {
    readFileSync('/nonexistent/sluice.yml');
  } catch (error) {
    refusal = error;
  }
  assert.match(messageForPeople(refusal) ?? '', /ENOENT: no such file or directory, open '\/nonexistent\/sluice\.yml'/);
  assert.equal(messageForPeople(new TypeError('x is undefined')), undefined);
  assert.equal(messageForPeople('a string'), undefined);
  assert.equal(messageForPeople(Object.assign(new Error('coded but not ours'), { code: 'E_SOMETHING' })), undefined);
});

test('errorMessage gives the message of anything thrown', () => {
  assert.equal(errorMessage(new Error('boom')), 'boom');
  assert.equal(errorMessage('plain'), 'plain');
  assert.equal(errorMessage(42), '42');
  assert.equal(errorMessage(undefined), 'undefined');
});
