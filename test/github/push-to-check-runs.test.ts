import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { RecordedCall } from '../helpers/github-stand-in.ts';
import { CANARY, type GithubSluice, githubSluicePerTest } from '../helpers/github-sluice.ts';
import { appFiles, pipelineFile, REPO } from '../helpers/shop.ts';
import { sha } from '../helpers/github-webhooks.ts';

const startApp = githubSluicePerTest();

/** The recorded writes as short sentences: what a reader of the commit page would see change. */
function story(calls: RecordedCall[]): string[] {
  const names = new Map<number, string>();
  const lines: string[] = [];
  for (const call of calls) {
    const body = call.body ?? {};
    const state = `${String(body.status ?? '')}${body.conclusion ? `/${String(body.conclusion)}` : ''}`;
    if (call.method === 'POST' && call.path.endsWith('/check-runs')) {
      lines.push(`create "${String(body.name)}" ${state}`);
      if (call.response?.id !== undefined)
        names.set(Number(call.response.id), String(body.name).replace('Sluice: ', ''));
    } else if (call.method === 'PATCH' && call.path.includes('/check-runs/')) {
      const id = Number(call.path.split('/').at(-1));
      if (body.status !== undefined) lines.push(`update ${names.get(id) ?? id} ${state}`);
    } else if (call.method === 'POST' && call.path.endsWith('/deployments')) {
      lines.push(`deployment ${String(body.environment)}`);
    } else if (call.method === 'POST' && call.path.endsWith('/statuses')) {
      lines.push(`deployment status ${String(body.state)}`);
    }
  }
  return lines.filter((line, i) => line !== lines[i - 1]);
}

/** The last state each check run was given, by name, merging creates and updates as GitHub does. */
function finalChecks(app: GithubSluice): Map<string, Record<string, unknown>> {
  const byName = new Map<string, Record<string, unknown>>();
  for (const call of app.github.calls.filter((c) => c.path.includes('/check-runs') && c.status < 300)) {
    const name = String(call.body?.name);
    byName.set(name, { ...byName.get(name), ...call.body });
  }
  return byName;
}

describe('a push, as GitHub shows it', () => {
  test('a green pipeline: a check run per stage, queued → in progress → success, and a Deployment with its statuses', async () => {
    const app = await startApp();
    app.github.addCommit(REPO, sha(1), appFiles('v1'));
    const reply = await app.sendPush({ after: sha(1) });
    assert.equal(reply.status, 200, reply.text);
    await app.sluice.idle();

    const lines = story(app.github.writes());
    // Both check runs appear when the execution starts, before anything else is reported.
    assert.deepEqual(
      lines.slice(0, 2).map((l) => l.replace(/ \S+$/, '')),
      ['create "Sluice: build"', 'create "Sluice: dev"'],
    );
    assert.equal(lines[1], 'create "Sluice: dev" queued');
    const order = (line: string) => {
      const at = lines.findIndex((l) => l.includes(line));
      assert.notEqual(at, -1, `"${line}" in:\n${lines.join('\n')}`);
      return at;
    };
    // A fast pipeline may end before GitHub hears of its middle; what GitHub hears is in order.
    assert.ok(order('build completed/success') < order('deployment dev'));
    assert.ok(order('deployment dev') < order('deployment status queued'));
    assert.ok(order('deployment status queued') < order('deployment status in_progress'));
    assert.ok(order('deployment status in_progress') < order('deployment status success'));
    assert.ok(order('deployment status success') < order('dev completed/success'));

    const checks = finalChecks(app);
    const build = checks.get('Sluice: build')!;
    assert.equal(build.conclusion, 'success');
    assert.equal(build.head_sha, sha(1));
    const output = build.output as { title: string; summary: string; text: string };
    assert.match(output.summary, /compile\*\* succeeded/);
    assert.match(output.text, /token is \*\*\*/);

    const success = app.github.calls.find((c) => c.path.endsWith('/statuses') && c.body?.state === 'success')!;
    assert.equal(success.body?.environment_url, 'https://dev.example.com');
    assert.equal(readFileSync(join(app.dir, 'srv-dev', 'current', 'started'), 'utf8'), 'v1\n');

    // details_url leads to Sluice's page of the execution, which serves the full log to whoever has the link.
    const details = String(build.details_url);
    assert.match(details, /^http:\/\/sluice\.test\/executions\/[0-9a-f-]+\?sig=[\w-]+#stage-build$/);
    const page = await fetch(`${app.sluice.url}${details.replace('http://sluice.test', '').replace(/#.*/, '')}`);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /token is \*\*\*/);
    const forged = await fetch(`${app.sluice.url}${new URL(details).pathname}?sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`);
    assert.equal(forged.status, 404);

    // The granted secret and the installation tokens appear in no call to GitHub, log or page.
    await app.sluice.close();
    const database = readFileSync(join(app.dir, 'data', 'sluice.db')).toString('latin1');
    const sent = JSON.stringify(app.github.calls.filter((c) => !c.path.endsWith('/access_tokens')));
    const everything = sent + app.logs.join('\n') + html + database;
    assert.equal(everything.includes(CANARY), false, 'the secret leaked');
    for (const token of app.github.tokens)
      assert.equal(everything.includes(token), false, 'an installation token leaked');
  });

  test('a failing build: the build check run fails with the log tail and a Retry button; later stages are skipped, nothing is deployed', async () => {
    const app = await startApp();
    app.github.addCommit(
      REPO,
      sha(2),
      appFiles('v1', pipelineFile(['echo compiling the shop', 'echo "no such file: src/main.c" >&2', 'exit 3'])),
    );
    await app.sendPush({ after: sha(2) });
    await app.sluice.idle();

    const checks = finalChecks(app);
    const build = checks.get('Sluice: build')!;
    assert.equal(build.status, 'completed');
    assert.equal(build.conclusion, 'failure');
    const output = build.output as { title: string; summary: string; text: string };
    assert.match(output.title, /build failed: compile/);
    assert.match(output.summary, /command 3 of 3 "exit 3" exited with code 3/);
    assert.match(output.text, /compiling the shop\n(.*\n)*no such file: src\/main\.c/);
    assert.deepEqual(
      (build.actions as Array<{ identifier: string }>).map((a) => a.identifier),
      ['retry'],
    );
    const dev = checks.get('Sluice: dev')!;
    assert.equal(dev.conclusion, 'skipped');
    assert.equal(
      app.github.calls.some((c) => c.path.endsWith('/deployments')),
      false,
    );
  });

  test('an invalid pipeline file fails a check run with annotations at its lines, 50 per request', async () => {
    const app = await startApp();
    const stages = Array.from(
      { length: 55 },
      (_, i) =>
        `  - name: s${i}\n    actions:\n      - name: a${i}\n        colour: blue\n        command: { host: builder, run: ["true"] }\n`,
    ).join('');
    app.github.addCommit(REPO, sha(3), { '.github/sluice.yml': `stages:\n${stages}` });
    await app.sendPush({ after: sha(3) });
    await app.sluice.idle();

    const writes = app.github.writes();
    assert.deepEqual(story(writes), ['create "Sluice: pipeline" completed/failure']);
    const annotations = writes.map(
      (c) =>
        (c.body?.output as { annotations?: Array<{ path: string; start_line: number; message: string }> })
          .annotations ?? [],
    );
    assert.deepEqual(
      annotations.map((a) => a.length),
      [50, 5],
    );
    const all = annotations.flat();
    assert.equal(all[0]?.path, '.github/sluice.yml');
    assert.deepEqual(
      all.slice(0, 3).map((a) => a.start_line),
      [5, 10, 15],
    );
    assert.match(all[0]?.message ?? '', /colour/);
    assert.deepEqual(await app.sluice.store.listExecutions(), []);
  });

  test('a push to a branch the pipeline does not name does nothing', async () => {
    const app = await startApp();
    app.github.addCommit(REPO, sha(4), appFiles('v1'));
    app.github.setBranch(REPO, 'main', sha(4));
    const reply = await app.sendPush({ branch: 'feature/login', after: sha(4) });
    assert.equal(reply.status, 200);
    await app.sluice.idle();
    assert.deepEqual(app.github.writes(), []);
    assert.deepEqual(await app.sluice.store.listExecutions(), []);
  });
});
