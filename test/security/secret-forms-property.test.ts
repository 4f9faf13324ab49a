/**
 * Random secrets (a bounded few, from a seed that a failure names), printed
 * by builds on the Sluice machine and on an SSH host in every shape tools
 * print secrets in — raw, base64 wrapped at 76 columns at every offset, hex
 * in both cases and wrapped, URL encoding lower-case and strict, JSON with
 * `\/` and `\uXXXX`, `bash -x` quoting, and across the cut of a line over
 * 64 KiB — reach no log, check run, Slack call, page, event stream or
 * database row (PRODUCT R4).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, test } from 'node:test';
import { pushPayload, sendWebhook } from '../helpers/github-webhooks.ts';
import { WEBHOOK_SECRET } from '../helpers/github-sluice.ts';
import { ANN, CHANNEL, REPO, sha, shopFiles, startSlackSluice, type SlackSluice } from '../helpers/slack-sluice.ts';
import { startSshHosts, type SshHosts } from '../helpers/ssh-hosts.ts';

const SEED = Number(process.env.SLUICE_TEST_SEED ?? Date.now() % 100_000);
const ALPHABET = `abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'"/\\*()!%+&<>@:;=?#$~ é`;

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

function secretsFor(seed: number, count: number): string[] {
  const next = random(seed);
  return Array.from({ length: count }, (_, i) => {
    const length = 10 + Math.floor(next() * 30);
    // The first always holds a ' (bash -x quoting) and a / (JSON \/).
    const body = Array.from({ length }, () => ALPHABET[Math.floor(next() * ALPHABET.length)]).join('');
    return i === 0 ? `k'${body}/x` : `s${body}`;
  });
}

const NAMES = ['API_TOKEN', 'TOKEN_B', 'TOKEN_C'];
const SECRETS = secretsFor(SEED, NAMES.length);

/** Printed by each build: every shape of every secret. */
const PRINT_FORMS = `
const names = ${JSON.stringify(NAMES)};
const wrap = (text, width) => text.replace(new RegExp('.{' + width + '}', 'g'), '$&\\n');
for (const name of names) {
  const s = process.env[name];
  const b = Buffer.from(s);
  const url = encodeURIComponent(s);
  const strict = url.replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
  const lines = [
    'raw: ' + s,
    b.toString('hex'), b.toString('hex').toUpperCase(), wrap('00'.repeat(7) + b.toString('hex'), 60),
    url.replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase()), strict, strict.replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase()),
    JSON.stringify({ token: s }).replaceAll('/', '\\\\/'),
    [...s].map((c) => '\\\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')).join(''),
    JSON.stringify({ token: s }).replace(/[^\\x20-\\x7e]/g, (c) => '\\\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')),
    'x'.repeat(65536 - 7) + s + ' after the cut',
  ];
  for (let pad = 0; pad < 6; pad++) lines.push(wrap(Buffer.from('user'.slice(0, pad) + ':' + s + ' tail').toString('base64'), 76));
  for (let pad = 0; pad < 76; pad += 5) lines.push(wrap(Buffer.from('p'.repeat(pad) + s).toString('base64'), 76));
  process.stdout.write(lines.join('\\n') + '\\n');
}
`;

function pipeline(): string {
  const run = ['mkdir -p dist', 'cp VERSION dist/VERSION', `${process.execPath} print-forms.js`, 'set -x; : "$API_TOKEN" "$TOKEN_B" "$TOKEN_C"'];
  const build = (name: string, host: string, paths: string) => `      - name: ${name}
        build:
          host: ${host}
          run: ${JSON.stringify(run)}
          secrets: ${JSON.stringify(NAMES)}
          artifact: { name: ${name}, paths: [${paths}] }
`;
  return `on:
  push:
    branches: [main]
stages:
  - name: build
    actions:
${build('app', 'builder', 'dist, deploy')}${build('remote', 'remote', 'dist')}  - name: production
    actions:
      - name: approve
        approval: { environment: production }
      - name: prod-deploy
        needs: [approve]
        deploy: { environment: production, artifact: app }
app:
  hooks:
    start: ["sh deploy/start.sh"]
  health:
    command: "test -f started"
    timeout: 5s
`;
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

/** The shapes a reader could decode a secret from; base64 runs are found with line breaks taken out. */
function shapes(secret: string): string[] {
  const b = Buffer.from(secret);
  const url = encodeURIComponent(secret);
  const runs = [0, 1, 2].map((shift) => Buffer.concat([Buffer.alloc(shift), b]).toString('base64').slice(Math.ceil((8 * shift) / 6), Math.floor((8 * (shift + b.length)) / 6)));
  return [secret, b.toString('hex'), b.toString('hex').toUpperCase(), url, url.toLowerCase(), JSON.stringify(secret).slice(1, -1), secret.replaceAll("'", "'\\''"), ...runs];
}

test(`random secrets printed in every shape on a local and an SSH host appear nowhere Sluice writes (seed ${SEED})`, async () => {
  app.github.addCommit(REPO, sha(1), { ...shopFiles('v1', pipeline()), 'print-forms.js': PRINT_FORMS }, { message: 'Release v1' });
  const reply = await sendWebhook(app.sluice.url, WEBHOOK_SECRET, 'push', pushPayload({ repo: REPO, after: sha(1), message: 'Release v1' }));
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
    const log = (await app.sluice.store.readLog({ executionId: execution!.id, stage: 'build', action, attempt: 1 })).map((l) => l.text);
    assert.ok(log.filter((line) => line === 'raw: ***').length === NAMES.length, `${action} printed the secrets: ${log.slice(0, 5).join('\n')}`);
    assert.ok(log.some((line) => line.endsWith('*** after the cut')), `${action}: the long line is there, masked across its cut`);
    sinks[`${action} log`] = log.join('\n');
  }
  sinks['Sluice’s own log'] = app.logs.join('\n');
  sinks['calls to GitHub'] = JSON.stringify(app.github.calls);
  sinks['calls to Slack'] = JSON.stringify([app.slack.calls, app.slack.responses]);
  const details = String(app.github.calls.find((c) => c.body?.name === 'Sluice: build' && c.body.details_url)?.body?.details_url);
  sinks['the execution page'] = await (await fetch(details.replace('http://sluice.test', app.sluice.url))).text();
  sinks['the page’s event stream'] = await (await fetch(`${app.sluice.url}/executions/${execution!.id}/events?sig=${new URL(details).searchParams.get('sig')}`, { signal: AbortSignal.timeout(10_000) })).text();
  const db = new DatabaseSync(join(app.dir, 'data', 'sluice.db'), { readOnly: true });
  try {
    for (const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>) {
      sinks[`table ${name}`] = db.prepare(`SELECT * FROM "${name}"`).all().map((row) => JSON.stringify(row)).join('\n');
    }
  } finally {
    db.close();
  }

  const found: string[] = [];
  for (const [where, text] of Object.entries(sinks)) {
    const joined = text.replace(/\\n|\n/g, '');
    for (const [i, secret] of SECRETS.entries()) {
      for (const shape of shapes(secret)) if (text.includes(shape) || joined.includes(shape)) found.push(`${where}: secret ${i + 1} as ${shape}`);
    }
  }
  assert.deepEqual(found, [], `seed ${SEED}, secrets ${JSON.stringify(SECRETS)}`);
});
