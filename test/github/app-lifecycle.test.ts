import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { readSettings } from '../../src/config/read-settings.ts';
import { startSluice } from '../../src/start-sluice.ts';
import { GithubStandIn } from '../helpers/github-stand-in.ts';
import { startGithubSluice, WEBHOOK_SECRET } from '../helpers/github-sluice.ts';
import { appFiles, pipelineFile } from '../helpers/shop.ts';
import { manifestOf, pushPayload, sendWebhook, sha } from '../helpers/github-webhooks.ts';

const REPO = 'acme/shop';

describe('the GitHub App from start to restart', () => {
  test('without credentials, Sluice serves the setup flow: app.yml as a manifest, then the app written to .env', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-setup-'));
    cpSync('app.yml', join(dir, 'app.yml'));
    const github = await new GithubStandIn().start();
    const logged: string[] = [];
    const sluice = await startSluice(
      readSettings({
        PORT: '0',
        SLUICE_DATA_DIR: join(dir, 'data'),
        SLUICE_URL: 'https://sluice.example.com',
        GHE_HOST: github.host,
        GHE_PROTOCOL: 'http',
      }),
      {
        host: '127.0.0.1',
        cwd: dir,
        log: (line) => logged.push(line),
      },
    );
    try {
      const root = await fetch(`${sluice.url}/`, { redirect: 'manual' });
      assert.equal(root.status, 302);
      assert.equal(root.headers.get('location'), '/probot');
      // The page opens only at the address Sluice printed to its log.
      const address = logged
        .map((line) => /open https:\/\/sluice\.example\.com(\/probot\?token=[\w-]+)/.exec(line)?.[1])
        .find(Boolean);
      assert.ok(address, `the log says where to set Sluice up: ${logged.join('\n')}`);
      for (const wrong of ['/probot', '/probot?token=guess']) {
        const refused = await fetch(`${sluice.url}${wrong}`);
        assert.equal(refused.status, 403);
        assert.match(await refused.text(), /needs the address Sluice printed to its log/);
      }
      const page = await (await fetch(`${sluice.url}${address}`)).text();
      const state = new RegExp(`action="http://${github.host}/settings/apps/new\\?state=([\\w-]+)"`).exec(page)?.[1];
      assert.ok(state, 'the form sends GitHub a state to send back');
      const manifest = manifestOf(page);
      assert.deepEqual(manifest.hook_attributes, {
        url: 'https://sluice.example.com/api/github/webhooks',
        active: true,
      });
      assert.equal(manifest.redirect_url, 'https://sluice.example.com/probot/setup');
      assert.deepEqual(manifest.default_events, ['push', 'check_run', 'check_suite']);
      assert.deepEqual(manifest.default_permissions, {
        checks: 'write',
        contents: 'read',
        deployments: 'write',
        metadata: 'read',
      });

      // Someone else's code, without the state or with another, changes nothing.
      for (const query of ['code=their-code', 'code=their-code&state=made-up']) {
        const refused = await fetch(`${sluice.url}/probot/setup?${query}`, { redirect: 'manual' });
        assert.equal(refused.status, 403);
        assert.match(await refused.text(), /no state, or one this Sluice did not issue.*nothing was changed/);
      }
      assert.ok(!github.calls.some((c) => c.path.startsWith('/app-manifests/')), 'no code was exchanged');
      assert.equal(existsSync(join(dir, '.env')), false);

      const back = await fetch(`${sluice.url}/probot/setup?code=the-code&state=${state}`, { redirect: 'manual' });
      assert.equal(back.status, 302);
      assert.equal(back.headers.get('location'), `http://${github.host}/apps/sluice/installations/new`);
      assert.ok(github.calls.some((c) => c.method === 'POST' && c.path === '/app-manifests/the-code/conversions'));
      const env: Record<string, string> = {};
      process.loadEnvFile(join(dir, '.env'));
      for (const name of ['APP_ID', 'PRIVATE_KEY', 'WEBHOOK_SECRET']) env[name] = process.env[name] ?? '';
      assert.equal(env.APP_ID, String(github.appId));
      assert.equal(env.PRIVATE_KEY, github.privateKey);
      assert.equal(env.WEBHOOK_SECRET, 'secret-from-the-manifest-flow');
      // …and with them, the settings describe a configured app.
      assert.equal(
        readSettings({ ...env, GHE_HOST: github.host, GHE_PROTOCOL: 'http' }).github?.baseUrl,
        `${github.apiUrl}`,
      );

      // A state is good for one way back.
      const replay = await fetch(`${sluice.url}/probot/setup?code=their-code&state=${state}`, { redirect: 'manual' });
      assert.equal(replay.status, 403);
      assert.ok(!github.calls.some((c) => c.path === '/app-manifests/their-code/conversions'));

      const hook = await fetch(`${sluice.url}/api/github/webhooks`, { method: 'POST', body: '{}' });
      assert.equal(hook.status, 503);
      assert.match(await hook.text(), /not configured yet/);
    } finally {
      for (const name of ['APP_ID', 'PRIVATE_KEY', 'WEBHOOK_SECRET']) delete process.env[name];
      await sluice.close();
      await github.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a half-configured app stops start-up with a message that says what is missing', () => {
    assert.throws(
      () => readSettings({ APP_ID: '12' }),
      /APP_ID is set but PRIVATE_KEY or PRIVATE_KEY_PATH and WEBHOOK_SECRET are not/,
    );
    assert.throws(
      () => readSettings({ APP_ID: 'twelve', PRIVATE_KEY: 'x', WEBHOOK_SECRET: 's' }),
      /APP_ID must be the GitHub App's numeric id/,
    );
    assert.throws(
      () => readSettings({ APP_ID: '12', PRIVATE_KEY: 'not a key', WEBHOOK_SECRET: 's' }),
      /must be the PEM file GitHub generated/,
    );
    assert.throws(
      () => readSettings({ APP_ID: '12', PRIVATE_KEY_PATH: '/nonexistent/key.pem', WEBHOOK_SECRET: 's' }),
      /PRIVATE_KEY_PATH names \/nonexistent\/key\.pem, which cannot be read/,
    );
  });

  test('a delivery stored but not yet handled when Sluice stops is handled after the restart', async () => {
    const first = await startGithubSluice();
    first.github.addCommit(REPO, sha(1), appFiles('v1'));
    // Stop handling, as a crash right after the reply would.
    await first.sluice.inbox?.stop();
    const reply = await first.sendPush({ after: sha(1) }, { delivery: 'kept' });
    assert.equal(reply.status, 200);
    assert.equal((await first.sluice.store.getDelivery('kept'))?.status, 'received');
    assert.deepEqual(await first.sluice.store.listExecutions(), []);
    await first.sluice.close();

    const again = await first.restart();
    try {
      await again.idle();
      const [execution] = await again.store.listExecutions();
      assert.equal(execution?.status, 'succeeded');
      assert.equal(execution?.revision.sha, sha(1));
      assert.equal((await again.store.getDelivery('kept'))?.status, 'done');
    } finally {
      await first.close();
    }
  });

  test('a newer deploy to an environment marks the previous Deployment inactive', async () => {
    const app = await startGithubSluice();
    try {
      app.github.addCommit(REPO, sha(1), appFiles('v1'));
      app.github.addCommit(REPO, sha(2), appFiles('v2'));
      await app.sendPush({ after: sha(1) });
      await app.sluice.idle();
      await app.sendPush({ before: sha(1), after: sha(2) });
      await app.sluice.idle();
      const deployments = app.github.calls.filter((c) => c.method === 'POST' && c.path.endsWith('/deployments'));
      assert.deepEqual(
        deployments.map((d) => d.body?.ref),
        [sha(1), sha(2)],
      );
      const [firstId, secondId] = deployments.map((d) => Number(d.response?.id));
      const statuses = app.github.calls
        .filter((c) => c.path.endsWith('/statuses'))
        .map((c) => `${c.path.split('/').at(-2)} ${String(c.body?.state)}`);
      assert.deepEqual(statuses, [
        `${firstId} queued`,
        `${firstId} in_progress`,
        `${firstId} success`,
        `${secondId} queued`,
        `${secondId} in_progress`,
        `${secondId} success`,
        `${firstId} inactive`,
      ]);
      assert.equal(readFileSync(join(app.dir, 'srv-dev', 'current', 'started'), 'utf8'), 'v2\n');
    } finally {
      await app.close();
    }
  });

  test('an environment renamed from "Dev" to "dev" retires the Deployment made under the old name: GitHub sees one environment', async () => {
    // Two names alike but for case cannot stand in one server config (it is refused), so the operator renames it
    // between runs.
    const config = (dir: string, name: string) => `hosts:
  builder: [local]
local:
  repos: [acme/*]
environments:
  ${name}:
    hosts: [local]
    path: ${join(dir, 'srv-dev')}
`;
    const pipeline = (environment: string) =>
      pipelineFile(['mkdir -p dist', 'cp VERSION dist/VERSION'])
        .replace('          secrets: [API_TOKEN]\n', '')
        .replace('environment: dev', `environment: ${environment}`);
    const first = await startGithubSluice({ serverConfig: (dir) => config(dir, 'Dev') });
    first.github.addCommit(REPO, sha(1), appFiles('v1', pipeline('Dev')));
    first.github.addCommit(REPO, sha(2), appFiles('v2', pipeline('dev')));
    await first.sendPush({ after: sha(1) });
    await first.sluice.idle();
    await first.sluice.close();
    writeFileSync(join(first.dir, 'server.yml'), config(first.dir, 'dev'));
    const again = await first.restart();
    try {
      await sendWebhook(again.url, WEBHOOK_SECRET, 'push', pushPayload({ repo: REPO, before: sha(1), after: sha(2) }));
      await again.idle();
      assert.deepEqual(
        first.github
          .deployments(REPO)
          .map((d) => `${d.environment}: ${d.statuses.map((s) => `${s.state} by ${s.by}`).at(-1)}`),
        ['Dev: inactive by app', 'dev: success by app'],
      );
    } finally {
      await first.close();
    }
  });
});
