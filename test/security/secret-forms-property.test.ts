/**
 * Random secrets (30, from a fixed seed that every failure names; set
 * SLUICE_TEST_SEED for another), printed by builds on the Sluice machine and
 * on an SSH host in every shape tools print secrets in — raw, hex (either
 * case, wrapped, as xxd, hexdump -C, od -tx1 and od -x dump it), base64
 * (padded or not, URL-safe, inside a longer encoding at every offset, wrapped
 * at 76 columns), URL encoding (lower-case, strict, twice), JSON (with `\/`,
 * `\uXXXX`, twice), `printf %q` and `bash -x` quoting in a UTF-8 and the C
 * locale, split by `\r` and by colour escapes, written in two chunks, and
 * across the cut of a line over 64 KiB — reach no log, check run, Slack
 * call, page, event stream or database row (PRODUCT R4). What counts as
 * reaching is what a reader could decode (test/helpers/find-secret-leaks.ts).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, test } from 'node:test';
import { findSecret, readAsAReader } from '../helpers/find-secret-leaks.ts';
import { REPO, shopFiles } from '../helpers/shop.ts';
import { ANN, CHANNEL, sha, type SlackSluice, startSlackSluice } from '../helpers/slack-sluice.ts';
import { pipelineFixture, type FixtureAction } from '../helpers/pipeline-fixture.ts';
import { startSshHosts, type SshHosts } from '../helpers/ssh-hosts.ts';

const SEED = Number(process.env.SLUICE_TEST_SEED ?? 15);
const COUNT = 30;
const ALPHABET = `abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'"/\\*()!%+&<>@:;=?#$~ é€ü`;
/** One of these stands in every secret, so each kind of quoting and escaping is met many times. */
const AWKWARD = ["'", '%', '/', '\\', 'é', '€'];
const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'secret-forms');

/** A small seeded generator (mulberry32), so a failing run can be repeated. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * 6 to 31 characters: a shorter value could turn up in ordinary output by
 * chance and be reported as found (short secrets are tested in mask-secret-forms.test.ts).
 */
function secretsFor(seed: number, count: number): string[] {
  const next = random(seed);
  const pick = (chars: readonly string[] | string) => chars[Math.floor(next() * chars.length)] ?? '';
  return Array.from({ length: count }, (_, i) => {
    const body = Array.from({ length: 5 + Math.floor(next() * 26) }, () => pick(ALPHABET)).join('');
    const at = Math.floor(next() * body.length);
    return body.slice(0, at) + (AWKWARD[i % AWKWARD.length] ?? '') + body.slice(at);
  });
}

const NAMES = Array.from({ length: COUNT }, (_, i) => `TOKEN_${String(i + 1).padStart(2, '0')}`);
const SECRETS = secretsFor(SEED, COUNT);

/** The shop's pipeline without dev, built twice: on the Sluice machine and on an SSH host. */
function pipeline(): string {
  const run = [
    'mkdir -p dist',
    'cp VERSION dist/VERSION',
    `${process.execPath} print-forms.js ${NAMES.join(' ')}`,
    `bash print-forms.sh ${NAMES.join(' ')}`,
  ];
  const build = (name: string, host: string, paths: string[]): FixtureAction => ({
    name,
    build: { host, run, secrets: NAMES, artifact: { name, paths } },
  });
  return pipelineFixture('shop-to-production', (pipeline) => {
    pipeline.stages = pipeline.stages.filter((stage) => stage.name !== 'dev');
    pipeline.stages[0]!.actions = [build('app', 'builder', ['dist', 'deploy']), build('remote', 'remote', ['dist'])];
  });
}

let ssh: SshHosts;
let app: SlackSluice;
before(async () => {
  ssh = await startSshHosts(1);
  const host = ssh.hosts[0]!;
  NAMES.forEach((name, i) => (process.env[`SLUICE_TEST_SECRET_${name}`] = SECRETS[i]));
  app = await startSlackSluice({
    serverConfig: (dir) => `ssh: { user: ${ssh.user}, key: ${ssh.keyPath}, known_hosts: ${ssh.knownHostsPath} }
hosts:
  builder: [local]
  remote: [{ name: ${host.name}, address: 127.0.0.1, port: ${host.port} }]
local: { repos: ['*'] }
environments:
  production:
    hosts: [local]
    path: ${join(dir, 'srv-prod')}
    approval:
      slack_channel: ${CHANNEL}
      approvers: [${ANN}]
      timeout: 24h
secrets:
${NAMES.map((name) => `  ${name}: { env: SLUICE_TEST_SECRET_${name}, repos: [${REPO}] }`).join('\n')}
`,
  });
});
after(async () => {
  await app?.close();
  await ssh?.stop();
});

test(`random secrets printed in every shape on a local and an SSH host appear nowhere Sluice writes (seed ${SEED})`, async () => {
  app.github.addCommit(
    REPO,
    sha(1),
    {
      ...shopFiles('v1', pipeline()),
      'print-forms.js': readFileSync(join(FIXTURES, 'print-forms.js'), 'utf8'),
      'print-forms.sh': readFileSync(join(FIXTURES, 'print-forms.sh'), 'utf8'),
    },
    { message: 'Release v1' },
  );
  const reply = await app.sendPush({ after: sha(1), message: 'Release v1' });
  assert.equal(reply.status, 200, reply.text);
  await app.sluice.idle();
  const [waiting] = await app.sluice.store.listExecutions();
  const failed = waiting?.stages.flatMap((s) => s.actions).find((a) => a.status === 'failed');
  assert.equal(failed, undefined, `seed ${SEED}: ${failed?.name} failed: ${failed?.reason}`);
  await app.click(app.card(), 'approve', ANN);
  const [execution] = await app.sluice.store.listExecutions();
  assert.equal(execution?.status, 'succeeded', execution?.reason);

  const sinks: Record<string, string> = {};
  for (const action of ['app', 'remote']) {
    const log = (
      await app.sluice.store.readLog({ executionId: execution!.id, stage: 'build', action, attempt: 1 })
    ).map((l) => l.text);
    assert.ok(
      log.filter((line) => line === 'raw: ***').length === NAMES.length,
      `${action} printed the secrets: ${log.slice(0, 5).join('\n')}`,
    );
    assert.ok(
      log.some((line) => line.endsWith('*** after the cut')),
      `${action}: the long line is there, masked across its cut`,
    );
    sinks[`${action} log`] = log.join('\n');
  }
  sinks['Sluice’s own log'] = app.logs.join('\n');
  sinks['calls to GitHub'] = JSON.stringify(app.github.calls);
  sinks['calls to Slack'] = JSON.stringify([app.slack.calls, app.slack.responses]);
  const details = String(
    app.github.calls.find((c) => c.body?.name === 'Sluice: build' && c.body.details_url)?.body?.details_url,
  );
  sinks['the execution page'] = await (await fetch(details.replace('http://sluice.test', app.sluice.url))).text();
  sinks['the page’s event stream'] = await (
    await fetch(
      `${app.sluice.url}/executions/${execution!.id}/events?sig=${new URL(details).searchParams.get('sig')}`,
      { signal: AbortSignal.timeout(10_000) },
    )
  ).text();
  const db = new DatabaseSync(join(app.dir, 'data', 'sluice.db'), { readOnly: true });
  try {
    for (const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{
      name: string;
    }>) {
      sinks[`table ${name}`] = db
        .prepare(`SELECT * FROM "${name}"`)
        .all()
        .map((row) => JSON.stringify(row))
        .join('\n');
    }
  } finally {
    db.close();
  }

  const found: string[] = [];
  for (const [where, text] of Object.entries(sinks)) {
    const readings = readAsAReader(text);
    for (const [i, secret] of SECRETS.entries()) {
      for (const reading of findSecret(readings, secret))
        found.push(`${where}: secret ${i + 1} (${JSON.stringify(secret)}), read ${reading}`);
    }
  }
  assert.deepEqual(found, [], `seed ${SEED} (SLUICE_TEST_SEED=${SEED} repeats it)`);
});
