/**
 * Sluice as a service with LOG_FORMAT=json (PRODUCT: logs a machine can
 * read): a push is built and deployed to dev while every stdout line must be
 * one JSON object with level, time and msg; the lines of the delivery and of
 * each action carry their ids; and neither the webhook secret and key from
 * `.env` nor a server-config secret the build prints shows in any line, at
 * LOG_LEVEL=debug, where every line of the build's output is logged too.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { waitForSluice, heldCheckRuns } from '../helpers/fault-checks.ts';
import { appFiles, pipelineFile } from '../helpers/shop.ts';
import { GithubStandIn } from '../helpers/github-stand-in.ts';
import { pushPayload, sendWebhook, sha } from '../helpers/github-webhooks.ts';
import { freeLoopbackPort } from '../helpers/free-port.ts';
import { startSluiceProcess, type SluiceProcess } from '../helpers/sluice-process.ts';

const REPO = 'acme/shop';
const WEBHOOK_SECRET = 'json-logs-webhook-secret-4711';
const CANARY = 'canary-Zq8w-secret-value';

let github: GithubStandIn | undefined;
let sluice: SluiceProcess | undefined;
const dir = mkdtempSync(join(tmpdir(), 'sluice-json-logs-'));

after(async () => {
  await sluice?.kill();
  await github?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test(
  'LOG_FORMAT=json: every line is JSON, lines carry the delivery, execution, stage and action ids, and no secret shows',
  { timeout: 240_000 },
  async () => {
    github = await new GithubStandIn().start();
    github.install(REPO);
    writeFileSync(
      join(dir, 'server.yml'),
      `hosts:\n  builder: [local]\nlocal:\n  repos: [acme/*]\nenvironments:\n  dev:\n    hosts: [local]\n    path: ${join(dir, 'srv-dev')}\nsecrets:\n  API_TOKEN: { env: SLUICE_TEST_CANARY, repos: [acme/shop] }\n`,
    );
    // The stand-in accepts the JWT of its own key; the key file is what `.env` names.
    writeFileSync(join(dir, 'app.pem'), github.privateKey);
    writeFileSync(join(dir, '.env'), `WEBHOOK_SECRET=${WEBHOOK_SECRET}\nPRIVATE_KEY_PATH=${join(dir, 'app.pem')}\n`);
    github.addCommit(REPO, sha(1), appFiles('v1', pipelineFile()));
    github.setBranch(REPO, 'main', sha(1));
    sluice = await startSluiceProcess({
      cwd: dir,
      port: await freeLoopbackPort(),
      env: {
        APP_ID: String(github.appId),
        GHE_HOST: github.host,
        GHE_PROTOCOL: 'http',
        SLUICE_DATA_DIR: join(dir, 'data'),
        SLUICE_CONFIG: join(dir, 'server.yml'),
        SLUICE_TEST_CANARY: CANARY,
        LOG_FORMAT: 'json',
        LOG_LEVEL: 'debug',
      },
    });

    const reply = await sendWebhook(sluice.url, WEBHOOK_SECRET, 'push', pushPayload({ repo: REPO, after: sha(1) }), {
      delivery: 'push-json-1',
    });
    assert.equal(reply.status, 200, reply.text);
    const records = () => parseLines(sluice!.stdout());
    await waitForSluice(
      sluice,
      'the dev deploy to succeed and be logged',
      () =>
        heldCheckRuns(github!, 'Sluice: dev', sha(1)).at(-1)?.conclusion === 'success' &&
        records().some((r) => r.stage === 'dev' && /succeeded/.test(String(r.msg))),
      180_000,
    );

    const all = records();
    for (const record of all) {
      assert.equal(typeof record.level, 'number');
      assert.equal(typeof record.time, 'number');
      assert.equal(typeof record.msg, 'string');
    }
    const delivery = all.find((r) => r.delivery === 'push-json-1');
    assert.ok(delivery, 'a line names the delivery');
    assert.equal(delivery.repo, REPO);
    assert.equal(delivery.event, 'push');
    const built = all.find((r) => r.stage === 'build' && r.action === 'compile' && /succeeded/.test(String(r.msg)));
    assert.ok(built, 'a line says the build succeeded, with its stage and action');
    assert.equal(typeof built.execution, 'string');
    assert.equal(typeof built.pipeline, 'string');
    assert.ok(
      all.some((r) => r.execution === built.execution && r.stage === 'dev' && r.action === 'dev-deploy'),
      'the deploy’s lines name the same execution',
    );
    assert.ok(
      all.some((r) => r.execution === built.execution && r.msg === 'token is ***'),
      'at debug the build’s output is logged, masked',
    );

    const text = sluice.output();
    for (const secret of [
      WEBHOOK_SECRET,
      CANARY,
      ...github.privateKey.split('\n').filter((line) => line.length > 20),
    ]) {
      assert.ok(!text.includes(secret), `a secret shows in Sluice's output: ${secret.slice(0, 6)}…`);
    }
    const exit = new Promise<number | null>((resolve) => sluice!.child.once('exit', (code) => resolve(code)));
    sluice.child.kill('SIGTERM');
    assert.equal(await exit, 0);
    // Lines up to the exit are JSON too, the stop's own among them.
    assert.ok(parseLines(sluice.stdout()).some((r) => /^SIGTERM: stopping/.test(String(r.msg))));
  },
);

/** Every stdout line, each of which must be one JSON object. */
function parseLines(stdout: string): Array<Record<string, unknown>> {
  const lines = stdout.split('\n').filter((line) => line !== '');
  return lines.map((line) => {
    try {
      const value = JSON.parse(line) as unknown;
      assert.ok(value && typeof value === 'object' && !Array.isArray(value), `not a JSON object: ${line}`);
      return value as Record<string, unknown>;
    } catch (error) {
      throw new Error(`a stdout line is not JSON: ${line}`, { cause: error });
    }
  });
}
