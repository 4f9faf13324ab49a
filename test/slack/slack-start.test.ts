import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { startSluice } from '../../src/start-sluice.ts';
import { SIGNING_SECRET } from '../helpers/slack-requests.ts';
import { BOT_TOKEN, SlackStandIn } from '../helpers/slack-stand-in.ts';
import { freeLoopbackPort } from '../helpers/free-port.ts';

async function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-slack-start-'));
  try {
    await run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('Slack at start-up', () => {
  test('a bot token Slack refuses stops start-up with what to fix, and frees the data directory', async () => {
    const slack = await new SlackStandIn().start();
    try {
      await withDir(async (dir) => {
        const settings = {
          port: 0,
          dataDir: join(dir, 'data'),
          publicUrl: 'http://sluice.test',
          slack: { botToken: 'xoxb-revoked', signingSecret: SIGNING_SECRET, apiUrl: slack.apiUrl },
        };
        await assert.rejects(startSluice(settings, { host: '127.0.0.1', log: () => {}, slackRetries: 0 }), {
          code: 'SLACK_START_FAILED',
          message:
            'Slack refused SLACK_BOT_TOKEN (auth.test: invalid_auth); copy the bot token from the Slack app\'s "OAuth & Permissions" page.',
        });
        const again = await startSluice(
          { ...settings, slack: { ...settings.slack, botToken: BOT_TOKEN } },
          { host: '127.0.0.1', log: () => {}, slackRetries: 0 },
        );
        await again.close();
      });
    } finally {
      await slack.stop();
    }
  });

  test('a Slack that cannot be reached is told apart from a refused token', async () => {
    const closed = await freeLoopbackPort();
    const apiUrl = `http://127.0.0.1:${closed}/api/`;
    await withDir(async (dir) => {
      const settings = {
        port: 0,
        dataDir: join(dir, 'data'),
        publicUrl: 'http://sluice.test',
        slack: { botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, apiUrl },
      };
      await assert.rejects(
        startSluice(settings, { host: '127.0.0.1', log: () => {}, slackRetries: 0 }),
        (error: Error & { code?: string }) => {
          assert.equal(error.code, 'SLACK_START_FAILED');
          assert.equal(
            error.message,
            `Slack could not be reached at ${apiUrl} (ECONNREFUSED), so SLACK_BOT_TOKEN could not be checked: check this machine's network and proxy, and SLACK_API_URL, then start Sluice again.`,
          );
          return true;
        },
      );
    });
  });

  test('Slack’s requests go to /slack/events; other /slack paths and a Sluice without Slack say where to go', async () => {
    const slack = await new SlackStandIn().start();
    try {
      await withDir(async (dir) => {
        const running = await startSluice(
          {
            port: 0,
            dataDir: join(dir, 'data'),
            publicUrl: 'http://sluice.test',
            slack: { botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, apiUrl: slack.apiUrl },
          },
          { host: '127.0.0.1', log: () => {}, slackRetries: 0 },
        );
        try {
          const other = await fetch(`${running.url}/slack/install`);
          assert.equal(other.status, 404);
          assert.match(
            await other.text(),
            /Sluice takes Slack's requests \(events, interactivity, \/sluice\) at POST \/slack\/events/,
          );
          const unsigned = await fetch(`${running.url}/slack/events`, {
            method: 'POST',
            body: 'payload=%7B%7D',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
          });
          assert.equal(unsigned.status, 401);
        } finally {
          await running.close();
        }
      });
      await withDir(async (dir) => {
        const running = await startSluice(
          { port: 0, dataDir: join(dir, 'data'), publicUrl: 'http://sluice.test' },
          { host: '127.0.0.1', log: () => {} },
        );
        try {
          const answer = await fetch(`${running.url}/slack/events`, { method: 'POST', body: '' });
          assert.equal(answer.status, 404);
          assert.match(
            await answer.text(),
            /Slack is not configured here \(set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET\)/,
          );
        } finally {
          await running.close();
        }
      });
    } finally {
      await slack.stop();
    }
  });
});
