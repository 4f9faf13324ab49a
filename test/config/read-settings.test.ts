import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { readSettings } from '../../src/config/read-settings.ts';

describe('the Slack settings', () => {
  test('a bot token with a signing secret is HTTP mode; with an app-level token, Socket Mode; none is no Slack', () => {
    assert.equal(readSettings({}).slack, undefined);
    assert.deepEqual(readSettings({ SLACK_BOT_TOKEN: 'xoxb-1-2', SLACK_SIGNING_SECRET: 's3cret' }).slack, {
      botToken: 'xoxb-1-2',
      signingSecret: 's3cret',
    });
    assert.deepEqual(readSettings({ SLACK_BOT_TOKEN: 'xoxb-1-2', SLACK_APP_TOKEN: 'xapp-1-A-3' }).slack, {
      botToken: 'xoxb-1-2',
      appToken: 'xapp-1-A-3',
    });
    assert.deepEqual(
      readSettings({ SLACK_BOT_TOKEN: 'xoxb-1-2', SLACK_SIGNING_SECRET: 's', SLACK_API_URL: 'http://127.0.0.1:9/api' })
        .slack,
      {
        botToken: 'xoxb-1-2',
        signingSecret: 's',
        apiUrl: 'http://127.0.0.1:9/api/',
      },
    );
  });

  test('each mistake names the variable and where to find the right value', () => {
    assert.throws(
      () => readSettings({ SLACK_SIGNING_SECRET: 's' }),
      /^SettingsError: SLACK_SIGNING_SECRET is set but SLACK_BOT_TOKEN is not: set the bot token \(xoxb-…/,
    );
    assert.throws(
      () => readSettings({ SLACK_BOT_TOKEN: 'xoxp-user-token', SLACK_SIGNING_SECRET: 's' }),
      /SLACK_BOT_TOKEN must be the bot token of the Slack app, which starts with "xoxb-"/,
    );
    assert.throws(
      () => readSettings({ SLACK_BOT_TOKEN: 'xoxb-1' }),
      /Slack needs SLACK_SIGNING_SECRET .* or SLACK_APP_TOKEN for Socket Mode/,
    );
    assert.throws(
      () => readSettings({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xoxb-1' }),
      /SLACK_APP_TOKEN must be an app-level token with the connections:write scope, which starts with "xapp-"/,
    );
    assert.throws(
      () => readSettings({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', SLACK_API_URL: 'slack.com/api' }),
      /SLACK_API_URL must be a URL such as https:\/\/slack\.com\/api\/, not "slack\.com\/api"/,
    );
  });
});

describe('the GitHub App settings, as Probot reads them', () => {
  const { privateKey: pkcs8 } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const pkcs1 = createPrivateKey(pkcs8).export({ type: 'pkcs1', format: 'pem' }).toString();
  const app = (more: Record<string, string>) =>
    readSettings({ APP_ID: '12', WEBHOOK_SECRET: 's', ...more }).github?.privateKey;

  test('PRIVATE_KEY as the PEM, on one line with \\n, on one line with spaces, or in base64, is the same key', () => {
    for (const pem of [pkcs1, pkcs8]) {
      const oneLine = pem.trim().replace(/\n/g, ' ');
      for (const given of [pem, pem.trim().replace(/\n/g, '\\n'), oneLine, Buffer.from(pem).toString('base64')]) {
        const read = app({ PRIVATE_KEY: given });
        assert.equal(read, pem.trim(), `read from ${given.slice(0, 40)}…`);
        assert.doesNotThrow(() => createPrivateKey(read!), 'a key Node can sign with');
      }
    }
  });

  test('a PEM file with garbage between its markers, or a key that is not RSA, stops start-up and says so', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-key-'));
    try {
      const garbage = join(dir, 'garbage.pem');
      writeFileSync(
        garbage,
        '-----BEGIN RSA PRIVATE KEY-----\nbm90IGEga2V5IGF0IGFsbA==\n-----END RSA PRIVATE KEY-----\n',
      );
      assert.throws(
        () => app({ PRIVATE_KEY_PATH: garbage }),
        new RegExp(
          `^SettingsError: PRIVATE_KEY_PATH \\(${garbage}\\) holds no RSA private key that can be read \\(.+\\): generate a new private key on the GitHub App's settings page`,
        ),
      );
      const { privateKey: ed25519 } = generateKeyPairSync('ed25519', {
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
        publicKeyEncoding: { type: 'spki', format: 'pem' },
      });
      assert.throws(
        () => app({ PRIVATE_KEY: ed25519 }),
        /^SettingsError: PRIVATE_KEY holds a ed25519 key; a GitHub App signs with RSA/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('PRIVATE_KEY_PATH is read relative to the working directory; a file or value that is not a key says what to set', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-key-'));
    try {
      writeFileSync(join(dir, 'app.pem'), pkcs1);
      writeFileSync(join(dir, 'not-a-key.pem'), 'hello');
      const cwd = process.cwd();
      process.chdir(dir);
      try {
        assert.equal(app({ PRIVATE_KEY_PATH: 'app.pem' }), pkcs1.trim());
        assert.throws(
          () => app({ PRIVATE_KEY_PATH: 'not-a-key.pem' }),
          /^SettingsError: PRIVATE_KEY_PATH names not-a-key\.pem, which is not a PEM private key/,
        );
      } finally {
        process.chdir(cwd);
      }
      assert.throws(
        () => app({ PRIVATE_KEY: 'not a key' }),
        /^SettingsError: PRIVATE_KEY must be the PEM file GitHub generated .*or the whole file in base64/,
      );
      assert.throws(
        () => app({ PRIVATE_KEY: Buffer.from('not a key either').toString('base64') }),
        /^SettingsError: PRIVATE_KEY must be the PEM file/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('PRIVATE_KEY as `base64` writes it (wrapped at 76 columns, with a final newline) or with Windows line endings is the same key', () => {
    const wrapped = `${Buffer.from(pkcs1)
      .toString('base64')
      .replace(/(.{76})/g, '$1\n')}\n`;
    assert.equal(app({ PRIVATE_KEY: wrapped }), pkcs1.trim());
    assert.equal(app({ PRIVATE_KEY: pkcs1.replace(/\n/g, '\r\n') }), pkcs1.trim());
    assert.equal(app({ PRIVATE_KEY: Buffer.from(pkcs1.replace(/\n/g, '\r\n')).toString('base64') }), pkcs1.trim());
    const dir = mkdtempSync(join(tmpdir(), 'sluice-key-'));
    try {
      writeFileSync(join(dir, 'crlf.pem'), pkcs1.replace(/\n/g, '\r\n'));
      assert.equal(app({ PRIVATE_KEY_PATH: join(dir, 'crlf.pem') }), pkcs1.trim());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('PRIVATE_KEY kept in its quotes, or an EC key, is named for what it is', () => {
    for (const quoted of [`"${pkcs1}"`, `'${pkcs1.trim().replace(/\n/g, '\\n')}'`]) {
      assert.throws(
        () => app({ PRIVATE_KEY: quoted }),
        /^SettingsError: PRIVATE_KEY is wrapped in quotes, which became part of its value: remove the quotes around it/,
      );
    }
    const { privateKey: ec } = generateKeyPairSync('ec', {
      namedCurve: 'prime256v1',
      privateKeyEncoding: { type: 'sec1', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    assert.match(ec, /BEGIN EC PRIVATE KEY/);
    assert.throws(
      () => app({ PRIVATE_KEY: ec }),
      /^SettingsError: PRIVATE_KEY holds a ec key; a GitHub App signs with RSA/,
    );
  });

  test('APP_ID and PORT are digits: hexadecimal, exponents and blanks are refused, not read as other numbers', () => {
    for (const id of ['0x10', '1e3', ' 12 ', '12.0'])
      assert.throws(
        () => app({ PRIVATE_KEY: pkcs1, APP_ID: id }),
        /^SettingsError: APP_ID must be the GitHub App's numeric id/,
        id,
      );
    for (const port of [' ', '0x50', '1e3', '80.0', '65536', 'abc'])
      assert.throws(
        () => readSettings({ PORT: port }),
        /^SettingsError: PORT must be a port number from 1 to 65535, not "/,
        port,
      );
    assert.equal(readSettings({ PORT: '8080' }).port, 8080);
    assert.throws(
      () => readSettings({ PORT: '0' }),
      /^SettingsError: PORT is 0, a port the system picks at random, so Sluice's own links \(http:\/\/localhost:0\/…\) would lead nowhere/,
    );
    assert.equal(
      readSettings({ PORT: '0', SLUICE_URL: 'https://sluice.example.com' }).port,
      0,
      'behind a proxy any port will do',
    );
  });

  test('LOG_LEVEL takes Probot’s levels; anything else says which there are', () => {
    assert.equal(readSettings({}).logLevel, undefined);
    const env = (level: string) => ({ LOG_LEVEL: level }) as NodeJS.ProcessEnv;
    for (const level of ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
      assert.equal(readSettings(env(level)).logLevel, level);
    assert.throws(
      () => readSettings(env('verbose')),
      /^SettingsError: LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent \(as in Probot; the default is warn\), not "verbose"/,
    );
  });

  test('LOG_FORMAT is json or pretty, and LOG_LEVEL_IN_STRING true, as in Probot', () => {
    assert.equal(readSettings({}).logFormat, undefined);
    assert.equal(readSettings({ LOG_FORMAT: 'json' }).logFormat, 'json');
    assert.equal(readSettings({ LOG_LEVEL_IN_STRING: 'true' }).logLevelInString, true);
    assert.equal(readSettings({ LOG_LEVEL_IN_STRING: 'false' }).logLevelInString, undefined);
    assert.throws(
      () => readSettings(JSON.parse('{"LOG_FORMAT": "yaml"}') as NodeJS.ProcessEnv),
      /^SettingsError: LOG_FORMAT must be json \(one JSON object a line\) or pretty \(the default, for a terminal\), as in Probot, not "yaml"\./,
    );
  });

  test('SLUICE_STOP_GRACE is a duration; anything else says how to write one', () => {
    assert.equal(readSettings({}).stopGraceMs, undefined);
    assert.equal(readSettings({ SLUICE_STOP_GRACE: '2m' }).stopGraceMs, 120_000);
    assert.equal(readSettings({ SLUICE_STOP_GRACE: '0' }).stopGraceMs, 0, 'no grace needs no unit');
    assert.throws(
      () => readSettings({ SLUICE_STOP_GRACE: '-1' }),
      /^SettingsError: SLUICE_STOP_GRACE must be a duration/,
    );
    assert.throws(
      () => readSettings({ SLUICE_STOP_GRACE: '30' }),
      /^SettingsError: SLUICE_STOP_GRACE must be a duration such as 500ms, 30s, 5m, 1h30m or 24h \(how long a stop lets running commands finish; the default is 30s\), not "30"\./,
    );
  });

  test('WEBHOOK_PATH moves the webhook endpoint, as in Probot; it must be a path', () => {
    assert.equal(readSettings({}).webhookPath, undefined);
    assert.equal(readSettings({ WEBHOOK_PATH: '/hooks/github' }).webhookPath, '/hooks/github');
    assert.throws(
      () => readSettings({ WEBHOOK_PATH: 'hooks' }),
      /^SettingsError: WEBHOOK_PATH must be the path GitHub posts webhooks to, starting with "\/"/,
    );
    // Paths Sluice serves itself: /metrics is answered before webhooks, and webhooks would shadow Slack's requests.
    for (const [path, what] of [
      ['/metrics', 'its metrics'],
      ['/healthz/', 'its health check'],
      ['/slack/events', "Slack's requests"],
      ['/executions/x', 'the execution pages'],
    ]) {
      assert.throws(
        () => readSettings({ WEBHOOK_PATH: path }),
        new RegExp(
          `^SettingsError: WEBHOOK_PATH ${path} is where Sluice serves ${what}, so GitHub's webhooks would not reach it: choose another path, such as the default /api/github/webhooks\\.`,
        ),
      );
    }
    assert.equal(readSettings({ WEBHOOK_PATH: '/metrics-hooks' }).webhookPath, '/metrics-hooks');
  });
});

test('DATABASE_URL with a password in its reserved characters says to percent-encode them; encoded, it is taken as it is', () => {
  for (const url of [
    'postgres://sluice:pa#ss@db:5432/sluice',
    'postgres://sluice:pa?ss@db/sluice',
    'postgres://sluice:a/b@db/sluice',
  ]) {
    assert.throws(
      () => readSettings({ DATABASE_URL: url }),
      /^SettingsError: DATABASE_URL cannot be read as a URL: a user name or password with any of # \? \/ : \[ \] % in it must be percent-encoded \(# as %23/,
    );
  }
  for (const url of [
    'postgres://sluice:pa%23ss@db:5432/sluice',
    'postgres://sluice:p@ss@db/sluice',
    'postgresql:///sluice?host=/var/run/postgresql',
  ]) {
    assert.equal(readSettings({ DATABASE_URL: url }).databaseUrl, url);
  }
});

describe('where GitHub is', () => {
  test('github.com unless GHE_HOST names a GitHub Enterprise Server; GH_ORG is the organization the setup flow creates the app in', () => {
    const none = readSettings({});
    assert.deepEqual(none.githubServer, { webUrl: 'https://github.com', apiUrl: 'https://api.github.com' });
    assert.equal(none.githubOrg, undefined);
    const enterprise = readSettings({ GHE_HOST: 'github.acme.test', GH_ORG: 'acme' });
    assert.deepEqual(enterprise.githubServer, {
      webUrl: 'https://github.acme.test',
      apiUrl: 'https://github.acme.test/api/v3',
    });
    assert.equal(enterprise.githubOrg, 'acme');
    assert.equal(
      readSettings({ GHE_HOST: 'localhost:8080', GHE_PROTOCOL: 'http' }).githubServer?.apiUrl,
      'http://localhost:8080/api/v3',
    );
  });
});
