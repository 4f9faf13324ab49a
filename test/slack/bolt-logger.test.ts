/**
 * Bolt's and the Web API's lines in Sluice's log: its warnings and errors
 * at warn level, so a reader of the JSON log that looks for level 40 and
 * above finds them; its info and debug, when Bolt is set to show them, at
 * info.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LogLevel } from '@slack/bolt';
import { createLogger } from '../../src/log/create-logger.ts';
import { boltLogger } from '../../src/slack/create-slack-app.ts';

test('Bolt’s errors and warnings are logged at warn level, its info at info', () => {
  const lines: string[] = [];
  const logger = createLogger({ format: 'json', write: (line) => lines.push(line) });
  const bolt = boltLogger(
    (line) => logger.info(line),
    (line) => logger.warn(line),
  );
  bolt.error('socket-mode: failed to connect');
  bolt.warn('http request failed');
  bolt.info('not shown at Bolt’s default level');
  bolt.setLevel(LogLevel.INFO);
  bolt.info('now shown');
  const records = lines.map((line) => JSON.parse(line) as { level: number; msg: string });
  assert.deepEqual(
    records.map((r) => [r.level, r.msg]),
    [
      [40, 'Slack error: socket-mode: failed to connect'],
      [40, 'Slack warn: http request failed'],
      [30, 'Slack info: now shown'],
    ],
  );
});
