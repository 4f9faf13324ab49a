/**
 * Webhooks built to hurt (PRODUCT G1, S7): malformed, huge, of unknown
 * events, with missing fields, or with branch names and commit messages
 * made for a shell. Each gets a clear answer and changes nothing else.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { describe, test } from 'node:test';
import { githubSluicePerTest, WEBHOOK_SECRET } from '../helpers/github-sluice.ts';
import { appFiles, pipelineFile, REPO } from '../helpers/shop.ts';
import { sha } from '../helpers/github-webhooks.ts';

const startApp = githubSluicePerTest();

/** A body signed as GitHub signs it, whatever it holds. */
async function sendRaw(
  url: string,
  event: string,
  body: string | Buffer,
  delivery: string,
): Promise<{ status: number; text: string }> {
  const signature = `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(body).digest('hex')}`;
  const response = await fetch(`${url}/api/github/webhooks`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': event,
      'x-github-delivery': delivery,
      'x-hub-signature-256': signature,
      'user-agent': 'GitHub-Hookshot/test',
    },
    body,
  });
  return { status: response.status, text: await response.text() };
}

describe('hostile webhooks', () => {
  test('malformed JSON, even correctly signed, is refused and nothing is stored', async () => {
    const app = await startApp();
    const reply = await sendRaw(app.sluice.url, 'push', '{"ref": "refs/heads/main", "after": ', 'malformed');
    assert.equal(reply.status, 400, reply.text);
    assert.equal(await app.sluice.store.getDelivery('malformed'), undefined);
  });

  test('a body larger than GitHub ever sends (25 MiB) is refused before it is read whole', async () => {
    const app = await startApp();
    const huge = Buffer.alloc(26 * 1024 * 1024, 0x20);
    const reply = await sendRaw(app.sluice.url, 'push', huge, 'huge');
    assert.equal(reply.status, 413);
    assert.match(reply.text, /larger than the 25 MiB GitHub sends/);
    assert.equal(await app.sluice.store.getDelivery('huge'), undefined);
    // The server still answers.
    assert.equal((await fetch(`${app.sluice.url}/healthz`)).status, 200);
  });

  test('every path Probot accepts has the 25 MiB limit, and a body over it gets 413 before it is sent whole', async () => {
    const app = await startApp();
    for (const path of [
      '/api/github/webhooks/',
      '/api/github/webhooks?x=1',
      '/api/github/webhooks//',
      '/api/github/./webhooks',
    ]) {
      for (const declared of [true, false]) {
        const delivery = `huge-${path}-${declared}`;
        const reply = await sendUnfinished(app.sluice.url, path, delivery, declared);
        assert.equal(reply.status, 413, `${path} (${declared ? 'content-length' : 'chunked'}): ${reply.text}`);
        assert.match(reply.text, /larger than the 25 MiB GitHub sends/);
        assert.equal(await app.sluice.store.getDelivery(delivery), undefined);
      }
    }
    assert.equal((await fetch(`${app.sluice.url}/healthz`)).status, 200, 'the server still answers');
  });

  test('events Sluice does not use, and pushes with fields missing or of the wrong kind, are recorded with why and start nothing', async () => {
    const app = await startApp();
    const cases: Array<[string, string, unknown]> = [
      ['star', 'unknown-event', { action: 'created', repository: { full_name: REPO }, installation: { id: 77 } }],
      [
        'push',
        'no-repository',
        {
          ref: 'refs/heads/main',
          before: sha(0),
          after: sha(1),
          deleted: false,
          head_commit: null,
          pusher: { name: 'alice' },
          sender: { login: 'alice' },
          installation: { id: 77 },
        },
      ],
      [
        'push',
        'wrong-types',
        { ref: 42, after: ['x'], repository: { full_name: REPO, default_branch: 'main' }, installation: { id: '77' } },
      ],
      [
        'check_run',
        'no-check-run',
        { action: 'rerequested', repository: { full_name: REPO }, installation: { id: 77 } },
      ],
    ];
    for (const [event, delivery, payload] of cases) {
      const reply = await sendRaw(app.sluice.url, event, JSON.stringify(payload), delivery);
      assert.equal(reply.status, 200, `${delivery}: GitHub gets its reply (${reply.text})`);
    }
    await app.sluice.idle();
    const notes = await Promise.all(cases.map(async ([, delivery]) => app!.sluice.store.getDelivery(delivery)));
    assert.deepEqual(
      notes.map((d) => d?.status),
      ['done', 'done', 'done', 'done'],
      'handled once, not retried',
    );
    assert.equal(notes[0]?.note, 'star is not an event Sluice acts on');
    assert.match(notes[1]?.note ?? '', /^not a push Sluice can read: repository: /);
    assert.match(notes[2]?.note ?? '', /^not a push Sluice can read: /);
    assert.match(notes[3]?.note ?? '', /^not a check_run Sluice can read: check_run: /);
    assert.deepEqual(await app.sluice.store.listExecutions(), []);
    assert.deepEqual(app.github.writes(), []);
  });

  test('a branch name and a commit message made for a shell run nothing on the way through', async () => {
    const app = await startApp();
    const pwned = `/tmp/sluice-pwned-${process.pid}`;
    rmSync(pwned, { force: true });
    const branch = `release/$(touch${'${IFS}'}${pwned});id;#`;
    const message = `\`touch ${pwned}\`; $(touch ${pwned}) ;id;#`;
    const pipeline = pipelineFile().replace('branches: [main, "release/*"]', 'branches: [main, "release/**"]');
    app.github.addCommit(REPO, sha(1), appFiles('v1', pipeline));
    app.github.setBranch(REPO, 'main', sha(1));
    const reply = await app.sendPush({ branch, after: sha(1), message });
    assert.equal(reply.status, 200);
    await app.sluice.idle();
    const [execution] = await app.sluice.store.listExecutions();
    assert.equal(execution?.status, 'succeeded', execution?.reason);
    assert.equal(execution?.revision.ref, branch, 'the branch is kept as it is');
    assert.equal(execution?.revision.message, message);
    assert.equal(existsSync(pwned), false, 'nothing ran what the branch or message contained');
    const runs = app.github.writes().filter((c) => c.path.endsWith('/check-runs'));
    assert.ok(
      runs.some((c) => String((c.body?.output as { summary: string }).summary).includes(`on ${branch}`)),
      'check runs show the branch literally',
    );
  });
});

/**
 * A POST of a body over 25 MiB that is never finished: with `declared`, a
 * Content-Length of 26 MiB and 1 MiB sent; otherwise chunked, 25 MiB and a
 * bit sent. The answer arrives while the request is still open, so the
 * server refused it before reading it whole.
 */
function sendUnfinished(
  url: string,
  path: string,
  delivery: string,
  declared: boolean,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'push',
        'x-github-delivery': delivery,
        'x-hub-signature-256': `sha256=${'0'.repeat(64)}`,
        ...(declared && { 'content-length': String(26 * 1024 * 1024) }),
      },
    });
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, text });
      });
    });
    // The server closes the connection after its answer; a write cut short by that is expected.
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    const mib = Buffer.alloc(1024 * 1024, 0x20);
    const chunks = declared ? 1 : 26;
    for (let i = 0; i < chunks; i++) req.write(mib);
  });
}
