/**
 * A `.env` written for a Probot app works for Sluice: PRIVATE_KEY in base64
 * and WEBHOOK_PATH are read as Probot reads them, and the app runs with
 * them; the setup flow points GitHub at WEBHOOK_PATH.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { readSettings } from '../../src/config/read-settings.ts';
import { startSluice } from '../../src/start-sluice.ts';
import { GithubStandIn } from '../helpers/github-stand-in.ts';
import { githubSluicePerTest, WEBHOOK_SECRET } from '../helpers/github-sluice.ts';
import { appFiles, REPO } from '../helpers/shop.ts';
import { manifestOf, sha } from '../helpers/github-webhooks.ts';

const startApp = githubSluicePerTest();

describe('Probot’s settings', () => {
  test('with PRIVATE_KEY in base64 and WEBHOOK_PATH, webhooks arrive at that path and the app signs in with the key', async () => {
    // The settings are read as from a Probot app's .env, with the stand-in's key in base64.
    const fromEnv = (github: GithubStandIn) => {
      const settings = readSettings({
        APP_ID: String(github.appId),
        PRIVATE_KEY: Buffer.from(github.privateKey).toString('base64'),
        WEBHOOK_SECRET,
        WEBHOOK_PATH: '/hooks/github',
        LOG_LEVEL: 'error',
        GHE_HOST: github.host,
        GHE_PROTOCOL: 'http',
      });
      assert.equal(settings.github?.privateKey, github.privateKey.trim());
      return { github: settings.github, webhookPath: settings.webhookPath, logLevel: settings.logLevel };
    };
    const again = await startApp({ settings: fromEnv });
    again.github.addCommit(REPO, sha(1), appFiles('v1'));

    const elsewhere = await again.sendPush({ after: sha(1) }, { delivery: 'default-path' });
    assert.equal(elsewhere.status, 404);
    assert.equal(await again.sluice.store.getDelivery('default-path'), undefined);

    const reply = await again.sendPush({ after: sha(1) }, { delivery: 'moved', path: '/hooks/github' });
    assert.equal(reply.status, 200, reply.text);
    await again.sluice.idle();
    const [execution] = await again.sluice.store.listExecutions();
    assert.equal(execution?.status, 'succeeded');
    assert.ok(
      again.github.calls.some((c) => c.path.endsWith('/access_tokens') && c.status === 201),
      'a token for a JWT signed with the decoded key',
    );
  });

  test('the setup flow asks GitHub to send webhooks to WEBHOOK_PATH', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-setup-path-'));
    cpSync('app.yml', join(dir, 'app.yml'));
    const logged: string[] = [];
    const sluice = await startSluice(
      readSettings({
        PORT: '0',
        SLUICE_DATA_DIR: join(dir, 'data'),
        SLUICE_URL: 'https://sluice.example.com',
        WEBHOOK_PATH: '/hooks/github',
      }),
      {
        host: '127.0.0.1',
        cwd: dir,
        log: (line) => logged.push(line),
      },
    );
    try {
      // The setup page opens with the one-time token Sluice prints.
      const address = logged
        .map((line) => /open https:\/\/sluice\.example\.com(\/probot\?token=[\w-]+)/.exec(line)?.[1])
        .find(Boolean);
      assert.ok(address, logged.join('\n'));
      const page = await (await fetch(`${sluice.url}${address}`)).text();
      const manifest = manifestOf(page);
      assert.deepEqual(manifest.hook_attributes, { url: 'https://sluice.example.com/hooks/github', active: true });
      assert.match(page, /GitHub will send webhooks to <code>https:\/\/sluice\.example\.com\/hooks\/github<\/code>/);
    } finally {
      await sluice.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
