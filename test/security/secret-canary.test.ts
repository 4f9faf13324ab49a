/**
 * A canary secret, printed on purpose by a build in every shape tools print
 * secrets in — raw, base64 (alone and inside a Basic auth header),
 * URL-encoded, JSON-escaped — reaches no log line, no call to GitHub or
 * Slack, no page and no database row (PRODUCT R4).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, test } from 'node:test';
import { ANN, type SlackSluice, startSlackSluice } from '../helpers/slack-sluice.ts';
import { productionPipeline } from '../helpers/shop.ts';

const CANARY = 'Canary/S3cr3t+v@lue "quoted" <b>&amp';
const FORMS: Record<string, string> = {
  raw: CANARY,
  base64: Buffer.from(CANARY).toString('base64'),
  'URL-encoded': encodeURIComponent(CANARY),
  'JSON-escaped': JSON.stringify(CANARY).slice(1, -1),
};

let app: SlackSluice;
before(async () => {
  app = await startSlackSluice();
  process.env.SLUICE_TEST_CANARY = CANARY;
});
after(() => app?.close());

function leaks(where: string, text: string): string[] {
  return Object.entries(FORMS)
    .filter(([, form]) => text.includes(form))
    .map(([name]) => `${where}: ${name}`);
}

test('a secret printed by a build in every shape appears nowhere Sluice writes', async () => {
  const build = [
    'echo "raw: $API_TOKEN"',
    'printf %s "$API_TOKEN" | base64 -w0; echo',
    'printf %s "ci:$API_TOKEN" | base64 -w0; echo',
    `node -e 'console.log("url: " + encodeURIComponent(process.env.API_TOKEN))'`,
    `node -e 'console.log(JSON.stringify({ token: process.env.API_TOKEN }))'`,
    'echo "error: bad token $API_TOKEN" >&2',
    'mkdir -p dist',
    'cp VERSION dist/VERSION',
  ];
  await app.push(1, 'v1', { pipeline: productionPipeline(build) });
  await app.click(app.card(), 'approve', ANN);
  const [execution] = await app.sluice.store.listExecutions();
  assert.equal(execution?.status, 'succeeded', execution?.reason);

  // The build did print it, five ways: each line is there, masked.
  const log = (
    await app.sluice.store.readLog({ executionId: execution!.id, stage: 'build', action: 'compile', attempt: 1 })
  ).map((l) => l.text);
  assert.ok(log.includes('raw: ***'), log.join('\n'));
  assert.ok(log.includes('url: ***'));
  assert.ok(log.includes('{"token":"***"}'));
  assert.ok(log.includes('error: bad token ***'));

  const found: string[] = [];
  found.push(...leaks('Sluice’s own log', app.logs.join('\n')));
  found.push(...leaks('calls to GitHub', JSON.stringify(app.github.calls)));
  found.push(...leaks('calls to Slack', JSON.stringify([app.slack.calls, app.slack.responses])));
  const details = String(
    app.github.calls.find((c) => c.body?.name === 'Sluice: build' && c.body.details_url)?.body?.details_url,
  );
  const page = await (await fetch(details.replace('http://sluice.test', app.sluice.url))).text();
  assert.match(page, /raw: \*\*\*/, 'the page shows the masked log');
  found.push(...leaks('the execution page', page));
  const events = await (
    await fetch(
      `${app.sluice.url}/executions/${execution!.id}/events?sig=${new URL(details).searchParams.get('sig')}`,
      { signal: AbortSignal.timeout(10_000) },
    )
  ).text();
  found.push(...leaks('the page’s event stream', events));

  // Every text of every row of every table.
  const db = new DatabaseSync(join(app.dir, 'data', 'sluice.db'), { readOnly: true });
  try {
    const tables = (
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>
    ).map((t) => t.name);
    for (const table of tables) {
      for (const row of db.prepare(`SELECT * FROM "${table}"`).all())
        found.push(...leaks(`table ${table}`, JSON.stringify(row)));
    }
  } finally {
    db.close();
  }
  assert.deepEqual(found, []);
});
