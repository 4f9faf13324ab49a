/**
 * The execution page in a real browser (Debian's headless Chromium): the
 * pipeline drawn as stages and arrows, a running build's log growing live,
 * the approval and who decided, and the finished execution green. A
 * screenshot is kept in test-artifacts/ for a person to look at.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.ts';
import { productionPipeline, REPO, shopFiles } from '../helpers/shop.ts';
import { ANN, sha, type SlackSluice, startSlackSluice } from '../helpers/slack-sluice.ts';
import { until as waitUntil } from '../helpers/until.ts';

const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url);

let browser: Browser;
let app: SlackSluice;
before(async () => {
  browser = await launchChromium();
  app = await startSlackSluice();
});
after(async () => {
  await browser?.close();
  await app?.close();
});

const until = <T>(what: string, probe: () => Promise<T | undefined> | T | undefined) =>
  waitUntil(what, probe, { timeoutMs: 20_000, intervalMs: 50 });

test(
  'the page draws the pipeline, grows a running log live, shows who approved, and ends green',
  { timeout: 90_000 },
  async () => {
    // The build prints two lines, then waits for the test to have the page open, then the rest.
    const gate = join(mkdtempSync(join(tmpdir(), 'sluice-page-')), 'page-open');
    const slowBuild = [
      `echo "compiling part 1 of 16"; echo "compiling part 2 of 16"; while [ ! -e ${gate} ]; do sleep 0.05; done; for i in $(seq 3 16); do echo "compiling part $i of 16"; sleep 0.1; done`,
      'mkdir -p dist',
      'cp VERSION dist/VERSION',
    ];
    app.github.addCommit(REPO, sha(1), shopFiles('v1', productionPipeline(slowBuild)), { message: 'Release v1' });
    const reply = await app.sendPush({ after: sha(1), message: 'Release v1' });
    assert.equal(reply.status, 200);

    // The link GitHub shows as the build's Details, opened on Sluice's own address.
    const details = await until(
      'the build check run',
      () =>
        app.github.calls.find((c) => c.body?.name === 'Sluice: build' && c.body.details_url)?.body?.details_url as
          string | undefined,
    );
    const url = String(details).replace('http://sluice.test', app.sluice.url).replace(/#.*/, '');
    await until('the first lines of the build', async () => {
      const [execution] = await app.sluice.store.listExecutions();
      const lines =
        execution &&
        (await app.sluice.store.readLog({ executionId: execution.id, stage: 'build', action: 'compile', attempt: 1 }));
      return lines && lines.length >= 2 ? true : undefined;
    });

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    page.on('console', (message) => message.type() === 'error' && problems.push(message.text()));
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(url);

    assert.equal(await page.locator('.box').count(), 3, 'a box per stage');
    assert.deepEqual(
      await page
        .locator('path.arrow')
        .evaluateAll((paths) => paths.map((p) => `${p.getAttribute('data-from')}→${p.getAttribute('data-to')}`)),
      ['build→dev', 'dev→production'],
    );
    assert.equal(await page.locator('.box[data-stage="build"]').getAttribute('data-status'), 'running');
    const log = page.locator('pre[data-log="build/compile"] span');
    const first = await log.count();
    assert.ok(first >= 1 && first < 16, `the page opened with part of the log (${first} lines)`);
    writeFileSync(gate, '');
    await until('the log to grow', async () => ((await log.count()) > first + 3 ? true : undefined));
    await page
      .locator('pre[data-log="build/compile"] span', { hasText: 'compiling part 16 of 16' })
      .waitFor({ timeout: 15_000 });

    // The build and dev pass; production waits at its gate, and the drawing says so without a reload.
    const approval = page.locator('.box[data-stage="production"] li[data-action="approve"]');
    await approval.locator('.state', { hasText: 'waiting for approval' }).waitFor({ timeout: 20_000 });
    assert.equal(await page.locator('path.arrow.done').count(), 2, 'arrows out of finished stages turn green');
    await app.sluice.idle();

    await app.click(app.card(), 'approve', ANN);
    await page.locator('#execution-status', { hasText: 'succeeded' }).waitFor({ timeout: 20_000 });
    assert.equal(await approval.locator('.state').textContent(), `approved by slack:${ANN}`);
    assert.deepEqual(
      await page.locator('.box').evaluateAll((boxes) => boxes.map((b) => b.getAttribute('data-status'))),
      ['succeeded', 'succeeded', 'succeeded'],
    );
    assert.match(
      String(await page.locator('pre[data-log="production/prod-deploy"]').textContent()),
      /deploying [0-9a-f]{7} to production/,
    );
    assert.equal(
      await page.locator('pre[data-log="build/compile"] span').count(),
      (
        await app.sluice.store.readLog({
          executionId: (await app.sluice.store.listExecutions())[0]!.id,
          stage: 'build',
          action: 'compile',
          attempt: 1,
        })
      ).length,
      'every line once, none twice',
    );

    mkdirSync(ARTIFACTS, { recursive: true });
    const shot = new URL('execution-page.png', ARTIFACTS);
    await page.screenshot({ path: shot.pathname, fullPage: true });
    assert.ok(statSync(shot).size > 10_000, 'a screenshot was kept');
    assert.deepEqual(problems, [], 'no script or policy errors in the page');

    // A finished execution's page is plain: no event stream to follow.
    const done = await (await fetch(url)).text();
    assert.equal(done.includes('data-events='), false);
    assert.match(done, /<span class="badge succeeded" id="execution-status">succeeded<\/span>/);
  },
);

test(
  'the event stream refuses a link without its signature, and ends by itself once the execution is over',
  { timeout: 30_000 },
  async () => {
    const [execution] = await app.sluice.store.listExecutions();
    const forged = await fetch(
      `${app.sluice.url}/executions/${execution!.id}/events?sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`,
    );
    assert.equal(forged.status, 404);
    const details = app.github.calls.find((c) => c.body?.name === 'Sluice: build')?.body?.details_url as string;
    const sig = new URL(details).searchParams.get('sig');
    assert.equal(execution?.status, 'succeeded', 'the execution of the test before is over');
    const stream = await fetch(`${app.sluice.url}/executions/${execution!.id}/events?sig=${sig}`, {
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(stream.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const text = await stream.text(); // ends: the execution is over
    assert.match(text, /event: state\n/);
    assert.match(text, /event: done\nid: [\w-]+\ndata: \{"status":"succeeded"\}/);
    assert.ok((text.match(/event: log\n/g) ?? []).length >= 3, 'a stream from no cursor sends every log');
  },
);

test('a reconnecting stream sends only the lines after its Last-Event-ID', { timeout: 30_000 }, async () => {
  const [execution] = await app.sluice.store.listExecutions();
  const details = app.github.calls.find((c) => c.body?.name === 'Sluice: build')?.body?.details_url as string;
  const events = `${app.sluice.url}/executions/${execution!.id}/events?sig=${new URL(details).searchParams.get('sig')}`;
  type Event = { event: string; id: string; data: { key?: string; lines?: { text: string }[] } };
  const read = async (lastEventId?: string): Promise<Event[]> => {
    const text = await (
      await fetch(events, {
        headers: lastEventId ? { 'last-event-id': lastEventId } : {},
        signal: AbortSignal.timeout(10_000),
      })
    ).text();
    return [...text.matchAll(/event: (\w+)\nid: ([\w-]+)\ndata: (.*)\n\n/g)].map((m) => ({
      event: m[1]!,
      id: m[2]!,
      data: JSON.parse(m[3]!),
    }));
  };
  const lines = (events: Event[]) =>
    events.filter((e) => e.event === 'log').flatMap((e) => e.data.lines!.map((l) => `${e.data.key}: ${l.text}`));

  const all = await read();
  const logs = all.filter((e) => e.event === 'log');
  assert.ok(logs.length >= 2, 'the execution wrote logs for more than one action');
  // Picking up after the first log event: every later line, once, and not the first event's.
  const resumed = await read(logs[0]!.id);
  assert.deepEqual(lines(resumed), lines(all).slice(logs[0]!.data.lines!.length));
  // Picking up after the last event: nothing is sent twice.
  const caughtUp = await read(all.at(-1)!.id);
  assert.deepEqual(lines(caughtUp), []);
  assert.equal(caughtUp.at(-1)?.event, 'done');
});
