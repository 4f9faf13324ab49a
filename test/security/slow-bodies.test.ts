/**
 * A client that trickles its body (slow loris) cannot hold a socket: a
 * webhook or a Slack request whose body has not arrived whole within 10 s
 * is answered 408 and its connection closed, nothing is stored or decided,
 * and the server goes on answering others meanwhile.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { slackSluicePerTest } from '../helpers/slack-sluice.ts';

const startApp = slackSluicePerTest();

/**
 * Opens a real socket, sends the head of a POST that promises 1 MiB (more
 * than any machine trickles within the deadline, a byte at a time) and only
 * a few bytes of it, then one more byte each time the server
 * answers a health check (so the body keeps trickling while the server is
 * busy); resolves with all the server sent once it closes the socket.
 */
function trickle(
  url: string,
  path: string,
  headers: Record<string, string>,
  healthz: () => Promise<void>,
): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let answer = '';
    let closed = false;
    socket.on('data', (d: Buffer) => (answer += d.toString()));
    // The server closes the socket without reading the rest: a reset after its answer is expected.
    socket.on('error', (error) => (answer ? resolve(answer) : reject(error)));
    socket.on('close', () => {
      closed = true;
      resolve(answer);
    });
    const head = Object.entries({ host: `${hostname}:${port}`, 'content-length': String(1024 * 1024), ...headers })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    socket.write(`POST ${path} HTTP/1.1\r\n${head}\r\n{"a":`);
    const more = async (): Promise<void> => {
      while (!closed && answer === '') {
        await healthz();
        if (!closed) socket.write(' ');
      }
    };
    more().catch(reject);
  });
}

test('a webhook or Slack body trickled a byte at a time is answered 408 within its deadline, and nothing is stored', async () => {
  const started = await startApp();
  const url = started.sluice.url;
  let answered = 0;
  const healthz = async () => {
    assert.equal((await fetch(`${url}/healthz`)).status, 200, 'the server answers others meanwhile');
    answered++;
  };
  const [github, slack] = await Promise.all([
    trickle(
      url,
      '/api/github/webhooks',
      {
        'content-type': 'application/json',
        'x-github-event': 'push',
        'x-github-delivery': 'slow-loris',
        'x-hub-signature-256': `sha256=${'0'.repeat(64)}`,
      },
      healthz,
    ),
    trickle(
      url,
      '/slack/events',
      {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-signature': `v0=${'0'.repeat(64)}`,
        'x-slack-request-timestamp': String(Math.floor(Date.now() / 1000)),
      },
      healthz,
    ),
  ]);
  for (const answer of [github, slack]) {
    assert.match(answer, /^HTTP\/1\.1 408 /, answer);
    assert.match(answer, /did not arrive whole within 10s, so Sluice stopped waiting for it; nothing was stored/);
  }
  assert.ok(answered > 0);
  assert.equal(await started.sluice.store.getDelivery('slow-loris'), undefined);
  assert.deepEqual(await started.sluice.store.listExecutions(), []);
});
