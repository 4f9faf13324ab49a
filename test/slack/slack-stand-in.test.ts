/**
 * The Slack stand-in refuses what Slack refuses (Block Kit reference,
 * chat.* errors, rate limits, response_url, Socket Mode), so that Sluice's
 * tests cannot pass against a Slack more lenient than the real one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { webApi } from '@slack/bolt';
import { WebSocket } from 'ws';
import { ACK_WITHIN_MS, APP_TOKEN, BOT_TOKEN, DEFAULT_CHANNEL, SlackStandIn } from '../helpers/slack-stand-in.ts';

const plain = (text: string) => ({ type: 'plain_text', text });
const mrkdwn = (text: string) => ({ type: 'mrkdwn', text });
const button = (id: string, extra: Record<string, unknown> = {}) => ({
  type: 'button',
  action_id: id,
  text: plain('Go'),
  value: 'v',
  ...extra,
});
const dialog = (extra: Record<string, unknown> = {}) => ({
  title: plain('Sure?'),
  text: plain('Really.'),
  confirm: plain('Yes'),
  deny: plain('No'),
  ...extra,
});

async function call(
  slack: SlackStandIn,
  method: string,
  args: Record<string, unknown>,
  token = BOT_TOKEN,
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const response = await fetch(`${slack.apiUrl}${method}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(args),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

describe('the Slack stand-in', () => {
  let slack: SlackStandIn;
  let now = Date.now();
  before(async () => {
    slack = await new SlackStandIn({ clock: () => now }).start();
    slack.invite(DEFAULT_CHANNEL);
    slack.join(DEFAULT_CHANNEL, ['U0ANN']);
  });
  after(() => slack.stop());

  test('refuses Block Kit that Slack refuses, with invalid_blocks and where, and takes what it accepts', async () => {
    const bad: Array<[string, unknown[], string]> = [
      [
        'a header in mrkdwn',
        [{ type: 'header', text: mrkdwn('Deploy?') }],
        'must be plain_text [json-pointer:/blocks/0/text/type]',
      ],
      [
        'a header over 150',
        [{ type: 'header', text: plain('h'.repeat(151)) }],
        'must be less than 151 characters [json-pointer:/blocks/0/text/text]',
      ],
      [
        'a section over 3000',
        [{ type: 'section', text: mrkdwn('s'.repeat(3001)) }],
        'must be less than 3001 characters [json-pointer:/blocks/0/text/text]',
      ],
      [
        'a section with neither text nor fields',
        [{ type: 'section' }],
        'must provide text or fields [json-pointer:/blocks/0]',
      ],
      [
        'an empty context text',
        [{ type: 'context', elements: [mrkdwn('')] }],
        'must be more than 0 characters [json-pointer:/blocks/0/elements/0/text]',
      ],
      [
        'a context text over 3000',
        [{ type: 'context', elements: [mrkdwn('c'.repeat(3001))] }],
        'must be less than 3001 characters [json-pointer:/blocks/0/elements/0/text]',
      ],
      [
        '11 context elements',
        [{ type: 'context', elements: Array.from({ length: 11 }, () => mrkdwn('c')) }],
        'no more than 10 items allowed [json-pointer:/blocks/0/elements]',
      ],
      [
        'button text in mrkdwn',
        [{ type: 'actions', elements: [button('a', { text: mrkdwn('Go') })] }],
        'must be plain_text [json-pointer:/blocks/0/elements/0/text/type]',
      ],
      [
        'button text over 75',
        [{ type: 'actions', elements: [button('a', { text: plain('b'.repeat(76)) })] }],
        'must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]',
      ],
      [
        'a button value over 2000',
        [{ type: 'actions', elements: [button('a', { value: 'v'.repeat(2001) })] }],
        'must be a string of less than 2001 characters [json-pointer:/blocks/0/elements/0/value]',
      ],
      [
        'confirm text in mrkdwn',
        [{ type: 'actions', elements: [button('a', { confirm: dialog({ text: mrkdwn('*Really*') }) })] }],
        'must be plain_text [json-pointer:/blocks/0/elements/0/confirm/text/type]',
      ],
      [
        'a confirm title over 100',
        [{ type: 'actions', elements: [button('a', { confirm: dialog({ title: plain('t'.repeat(101)) }) })] }],
        'must be less than 101 characters [json-pointer:/blocks/0/elements/0/confirm/title/text]',
      ],
      [
        'a confirm text over 300',
        [{ type: 'actions', elements: [button('a', { confirm: dialog({ text: plain('t'.repeat(301)) }) })] }],
        'must be less than 301 characters [json-pointer:/blocks/0/elements/0/confirm/text/text]',
      ],
      [
        'a confirm button over 30',
        [{ type: 'actions', elements: [button('a', { confirm: dialog({ confirm: plain('y'.repeat(31)) }) })] }],
        'must be less than 31 characters [json-pointer:/blocks/0/elements/0/confirm/confirm/text]',
      ],
      [
        'a deny button over 30',
        [{ type: 'actions', elements: [button('a', { confirm: dialog({ deny: plain('n'.repeat(31)) }) })] }],
        'must be less than 31 characters [json-pointer:/blocks/0/elements/0/confirm/deny/text]',
      ],
      [
        'a confirm without deny',
        [{ type: 'actions', elements: [button('a', { confirm: dialog({ deny: undefined }) })] }],
        'must provide an object [json-pointer:/blocks/0/elements/0/confirm/deny]',
      ],
      [
        'an action_id twice',
        [
          { type: 'actions', elements: [button('a'), button('b')] },
          { type: 'actions', elements: [button('a')] },
        ],
        'action_id must be unique in the message: a is used twice [json-pointer:/blocks/1/elements/0/action_id]',
      ],
      [
        'a block_id twice',
        [
          { type: 'divider', block_id: 'x' },
          { type: 'divider', block_id: 'x' },
        ],
        'block_id must be unique in the message: x is used twice [json-pointer:/blocks/1/block_id]',
      ],
      [
        'an action_id over 255',
        [{ type: 'actions', elements: [button('a'.repeat(256))] }],
        'must be less than 256 characters [json-pointer:/blocks/0/elements/0/action_id]',
      ],
      [
        'a block_id over 255',
        [{ type: 'divider', block_id: 'b'.repeat(256) }],
        'must be less than 256 characters [json-pointer:/blocks/0/block_id]',
      ],
      [
        '26 elements in an actions block',
        [{ type: 'actions', elements: Array.from({ length: 26 }, (_, i) => button(`a${i}`)) }],
        'no more than 25 items allowed [json-pointer:/blocks/0/elements]',
      ],
      [
        '51 blocks',
        Array.from({ length: 51 }, () => ({ type: 'divider' })),
        'no more than 50 items allowed [json-pointer:/blocks]',
      ],
      [
        'emoji on mrkdwn',
        [{ type: 'section', text: { ...mrkdwn('*Deploy*'), emoji: true } }],
        'invalid additional property: emoji [json-pointer:/blocks/0/text]',
      ],
      [
        'verbatim on plain_text',
        [{ type: 'header', text: { ...plain('Deploy'), verbatim: true } }],
        'invalid additional property: verbatim [json-pointer:/blocks/0/text]',
      ],
      [
        'a property a section does not have',
        [{ type: 'section', text: mrkdwn('s'), elements: [] }],
        'invalid additional property: elements [json-pointer:/blocks/0]',
      ],
      [
        'a property a button does not have',
        [{ type: 'actions', elements: [button('a', { label: 'Go' })] }],
        'invalid additional property: label [json-pointer:/blocks/0/elements/0]',
      ],
      [
        'a property a confirm dialog does not have',
        [{ type: 'actions', elements: [button('a', { confirm: dialog({ ok: plain('Yes') }) })] }],
        'invalid additional property: ok [json-pointer:/blocks/0/elements/0/confirm]',
      ],
    ];
    for (const [what, blocks, error] of bad) {
      for (const method of ['chat.postMessage', 'chat.postEphemeral']) {
        const { status, body } = await call(slack, method, {
          channel: DEFAULT_CHANNEL,
          user: 'U0ANN',
          text: 'fallback',
          blocks,
        });
        assert.equal(status, 200, `${what}: Slack answers errors with HTTP 200`);
        assert.equal(body.ok, false, `${what} was taken by ${method}`);
        assert.equal(body.error, 'invalid_blocks');
        assert.deepEqual(body.errors, [error], what);
        assert.deepEqual((body.response_metadata as { messages: string[] }).messages, [`[ERROR] ${error}`]);
      }
    }
    const good = [
      { type: 'header', text: { ...plain('h'.repeat(150)), emoji: true } },
      {
        type: 'section',
        text: { ...mrkdwn('s'.repeat(3000)), verbatim: false },
        fields: Array.from({ length: 10 }, () => mrkdwn('f')),
      },
      { type: 'context', elements: Array.from({ length: 10 }, () => mrkdwn('c'.repeat(3000))) },
      {
        type: 'actions',
        block_id: 'b'.repeat(255),
        elements: Array.from({ length: 25 }, (_, i) =>
          button(`a${i}`, {
            text: plain('t'.repeat(75)),
            value: 'v'.repeat(2000),
            confirm: dialog({ title: plain('t'.repeat(100)), text: plain('t'.repeat(300)) }),
          }),
        ),
      },
    ];
    const posted = await call(slack, 'chat.postMessage', { channel: DEFAULT_CHANNEL, text: 'fallback', blocks: good });
    assert.equal(posted.body.ok, true, JSON.stringify(posted.body));
    const updated = await call(slack, 'chat.update', {
      channel: DEFAULT_CHANNEL,
      ts: posted.body.ts,
      text: 'x',
      blocks: [{ type: 'header', text: mrkdwn('no') }],
    });
    assert.equal(updated.body.error, 'invalid_blocks', 'chat.update is checked as well');
    assert.equal(slack.messages.get(String(posted.body.ts))?.blocks.length, 4, 'a refused update changes nothing');
  });

  test('refuses a top-level text over 40,000 characters with msg_too_long, on every chat method, and takes 40,000', async () => {
    const posted = await call(slack, 'chat.postMessage', { channel: DEFAULT_CHANNEL, text: 'card' });
    const args = { channel: DEFAULT_CHANNEL, user: 'U0ANN', ts: posted.body.ts };
    for (const method of ['chat.postMessage', 'chat.update', 'chat.postEphemeral']) {
      const refused = await call(slack, method, { ...args, text: 't'.repeat(40_001) });
      assert.deepEqual([refused.status, refused.body], [200, { ok: false, error: 'msg_too_long' }], method);
      // Characters outside the BMP count twice (UTF-16), never fewer than Slack counts.
      assert.equal((await call(slack, method, { ...args, text: '😀'.repeat(20_001) })).body.error, 'msg_too_long');
      assert.equal((await call(slack, method, { ...args, text: 't'.repeat(40_000) })).body.ok, true, method);
    }
    assert.equal(slack.messages.get(String(posted.body.ts))?.text.length, 40_000, 'the update that fits is kept whole');
  });

  test('out of the box, the bot is in no channel and nobody is in any: not_in_channel and user_not_in_channel until invite and join', async () => {
    const fresh = await new SlackStandIn().start();
    try {
      const post = () => call(fresh, 'chat.postMessage', { channel: DEFAULT_CHANNEL, text: 'hi' });
      const whisper = () =>
        call(fresh, 'chat.postEphemeral', { channel: DEFAULT_CHANNEL, user: 'U0ANN', text: 'just you' });
      assert.equal((await post()).body.error, 'not_in_channel');
      assert.equal((await whisper()).body.error, 'not_in_channel');
      fresh.invite(DEFAULT_CHANNEL);
      assert.equal((await post()).body.ok, true, 'invited');
      assert.equal((await whisper()).body.error, 'user_not_in_channel', 'Ann is not in the channel yet');
      fresh.join(DEFAULT_CHANNEL, ['U0ANN']);
      assert.equal((await whisper()).body.ok, true, 'Ann joined');
      fresh.invite('C0NEW');
      assert.equal((await call(fresh, 'chat.postMessage', { channel: 'C0NEW', text: 'hi' })).body.ok, true);
    } finally {
      await fresh.stop();
    }
  });

  test('answers channel_not_found for a channel that does not exist and not_in_channel for one the bot is not in', async () => {
    slack.channels.set('C0ELSEWHERE', { name: 'elsewhere', member: false });
    for (const method of ['chat.postMessage', 'chat.postEphemeral', 'chat.update']) {
      assert.equal(
        (await call(slack, method, { channel: 'C0NOWHERE', user: 'U0ANN', ts: '1.2', text: 'hi' })).body.error,
        'channel_not_found',
        method,
      );
      assert.equal(
        (await call(slack, method, { channel: 'C0ELSEWHERE', user: 'U0ANN', ts: '1.2', text: 'hi' })).body.error,
        'not_in_channel',
        method,
      );
    }
    slack.channels.set('C0ELSEWHERE', { name: 'elsewhere', member: true });
    assert.equal(
      (await call(slack, 'chat.postMessage', { channel: 'C0ELSEWHERE', text: 'hi' })).body.ok,
      true,
      'once the bot is invited',
    );
  });

  test('answers cant_update_message for an update of a message the bot did not post, and message_not_found for a ts in another channel', async () => {
    const theirs = slack.postAsUser(DEFAULT_CHANNEL, 'U0ANN', 'deploying by hand');
    assert.equal(
      (await call(slack, 'chat.update', { channel: DEFAULT_CHANNEL, ts: theirs, text: 'edited' })).body.error,
      'cant_update_message',
    );
    assert.equal(slack.messages.get(theirs)?.text, 'deploying by hand');
    slack.channels.set('C0OTHER', { name: 'other', member: true });
    const ours = await call(slack, 'chat.postMessage', { channel: DEFAULT_CHANNEL, text: 'card' });
    assert.equal(
      (await call(slack, 'chat.update', { channel: 'C0OTHER', ts: ours.body.ts, text: 'edited' })).body.error,
      'message_not_found',
    );
    assert.equal(
      (await call(slack, 'chat.update', { channel: DEFAULT_CHANNEL, ts: ours.body.ts, text: 'edited' })).body.ok,
      true,
      'its own message it edits',
    );
  });

  test('answers user_not_in_channel for a private answer to a user who is not in the channel', async () => {
    slack.channels.set('C0TEAM', { name: 'team', member: true, users: new Set(['U0ANN']) });
    assert.equal(
      (await call(slack, 'chat.postEphemeral', { channel: 'C0TEAM', user: 'U0BOB', text: 'hi' })).body.error,
      'user_not_in_channel',
    );
    assert.equal(
      (await call(slack, 'chat.postEphemeral', { channel: 'C0TEAM', user: 'U0ANN', text: 'hi' })).body.ok,
      true,
      'a member gets it',
    );
  });

  test('grants the bot token the scopes slack-manifest.yml asks for, and answers missing_scope for a method needing another', async () => {
    assert.deepEqual([...slack.scopes].sort(), [
      'chat:write',
      'commands',
      'usergroups:read',
      'users:read',
      'users:read.email',
    ]);
    const narrow = await new SlackStandIn({ scopes: ['chat:write', 'users:read'] }).start();
    try {
      slack.emails.set('ann@example.com', 'U0ANN');
      narrow.emails.set('ann@example.com', 'U0ANN');
      narrow.invite(DEFAULT_CHANNEL);
      assert.deepEqual((await call(narrow, 'users.lookupByEmail', { email: 'ann@example.com' })).body, {
        ok: false,
        error: 'missing_scope',
        needed: 'users:read.email',
        provided: 'chat:write,users:read',
      });
      assert.equal((await call(narrow, 'usergroups.users.list', { usergroup: 'S0OPS' })).body.error, 'missing_scope');
      assert.equal(
        (await call(narrow, 'chat.postMessage', { channel: DEFAULT_CHANNEL, text: 'hi' })).body.ok,
        true,
        'chat:write it has',
      );
      assert.equal(
        (await call(slack, 'users.lookupByEmail', { email: 'ann@example.com' })).body.ok,
        true,
        'the manifest asks for users:read.email',
      );
    } finally {
      await narrow.stop();
    }
  });

  test('answers token_revoked for every method once the bot token is revoked, and invalid_auth for a token it never gave', async () => {
    slack.revokeToken();
    try {
      for (const method of ['auth.test', 'chat.postMessage', 'users.lookupByEmail']) {
        assert.equal(
          (await call(slack, method, { channel: DEFAULT_CHANNEL, text: 'hi', email: 'ann@example.com' })).body.error,
          'token_revoked',
          method,
        );
      }
    } finally {
      slack.revokeToken(false);
    }
    assert.equal(
      (await call(slack, 'chat.postMessage', { channel: DEFAULT_CHANNEL, text: 'hi' }, 'xoxb-wrong')).body.error,
      'invalid_auth',
    );
    assert.equal(
      (await call(slack, 'chat.postMessage', { channel: DEFAULT_CHANNEL, text: 'hi' })).body.ok,
      true,
      'the token given back works',
    );
  });

  test('rate limits with HTTP 429 ratelimited and Retry-After, refuses a call before it has passed, and takes one after', async () => {
    slack.rateLimit('usergroups.users.list', 1);
    slack.groups.set('S0REL', ['U0CAROL']);
    const first = await call(slack, 'usergroups.users.list', { usergroup: 'S0REL' });
    assert.equal(first.status, 429);
    assert.equal(first.headers.get('retry-after'), '1');
    assert.deepEqual(first.body, { ok: false, error: 'ratelimited' });
    const early = await call(slack, 'usergroups.users.list', { usergroup: 'S0REL' });
    assert.equal(early.status, 429, 'too early: still limited');
    assert.equal(slack.earlyCalls, 1);
    // Slack's own client waits as told (its retries are what Sluice counts on).
    const client = new webApi.WebClient(BOT_TOKEN, {
      slackApiUrl: slack.apiUrl,
      retryConfig: { retries: 1, minTimeout: 0 },
    });
    slack.rateLimit('users.lookupByEmail', 1);
    slack.emails.set('carol@example.com', 'U0CAROL');
    const before = slack.calls.length;
    const answer = await client.users.lookupByEmail({ email: 'carol@example.com' });
    assert.equal(answer.user?.id, 'U0CAROL');
    const [limited, retried] = slack.calls.slice(before);
    assert.ok(limited && retried && retried.at - limited.at >= 1000, 'the retry came after Retry-After');
    assert.equal(slack.earlyCalls, 1, 'no call came too early');
  });

  test('takes 5 posts to a response_url within 30 minutes; then used_url, or expired_url once they have passed', async () => {
    const post = async (url: string, body: unknown) => {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const url = slack.responseUrl('five');
    for (let i = 1; i <= 5; i++) assert.equal((await post(url, { text: `answer ${i}` })).status, 200);
    assert.deepEqual(await post(url, { text: 'a sixth' }), { status: 404, body: { ok: false, error: 'used_url' } });
    assert.equal(slack.responses.filter((r) => r.id === 'five').length, 5);
    const late = slack.responseUrl('late');
    now += 30 * 60_000 + 1;
    assert.deepEqual(await post(late, { text: 'too late' }), {
      status: 404,
      body: { ok: false, error: 'expired_url' },
    });
    const fresh = slack.responseUrl('fresh');
    assert.equal(
      (await post(fresh, { blocks: [{ type: 'header', text: mrkdwn('x') }] })).status,
      400,
      'Block Kit is checked there too',
    );
    assert.equal((await post(fresh, {})).body.error, 'no_text');
  });

  test('a response_url takes response_type ephemeral or in_channel (or none), and refuses any other, and a text over 40,000 characters', async () => {
    const post = async (body: unknown) => {
      const url = slack.responseUrl(`type-${Math.random()}`);
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    for (const response_type of ['ephemeral', 'in_channel', undefined])
      assert.equal((await post({ response_type, text: 'ok' })).status, 200, String(response_type));
    for (const response_type of ['channel', 'In_Channel', 'public', ''])
      assert.deepEqual(
        await post({ response_type, text: 'no' }),
        { status: 400, body: { ok: false, error: 'invalid_response_type' } },
        response_type,
      );
    assert.deepEqual(await post({ response_type: 'ephemeral', text: 'x'.repeat(40_001) }), {
      status: 400,
      body: { ok: false, error: 'msg_too_long' },
    });
  });

  test('in Socket Mode, gives up on an envelope not acknowledged within 3 seconds, redelivers with retry_attempt, and asks for a reconnect with disconnect', async () => {
    const opened = await call(slack, 'apps.connections.open', {}, APP_TOKEN);
    const received: Array<Record<string, unknown>> = [];
    let acking = false;
    const connect = (url: string) =>
      new Promise<WebSocket>((done) => {
        const socket = new WebSocket(url);
        socket.on('message', (data) => {
          const message = JSON.parse(String(data)) as Record<string, unknown>;
          received.push(message);
          if (message.type === 'hello') done(socket);
          if (message.envelope_id && acking) socket.send(JSON.stringify({ envelope_id: message.envelope_id }));
          if (message.type === 'disconnect')
            void call(slack, 'apps.connections.open', {}, APP_TOKEN).then(({ body }) => connect(String(body.url)));
        });
      });
    await connect(String(opened.body.url));
    const started = Date.now();
    const unacked = slack.sendEnvelope('interactive', { type: 'block_actions' });
    await assert.rejects(unacked, new RegExp(`did not acknowledge envelope .* within ${ACK_WITHIN_MS} ms`));
    assert.ok(Date.now() - started >= ACK_WITHIN_MS);
    acking = true;
    const first = await slack.sendEnvelope('interactive', { type: 'block_actions' });
    const again = await slack.sendEnvelope('interactive', {}, { of: first.envelope });
    assert.equal(again.envelope.envelope_id, first.envelope.envelope_id);
    assert.deepEqual([received.at(-1)?.retry_attempt, received.at(-1)?.retry_reason], [1, 'timeout']);
    await slack.disconnect('refresh_requested');
    assert.ok(received.some((m) => m.type === 'disconnect' && m.reason === 'refresh_requested'));
    assert.equal(slack.socketConnections, 1, 'the old connection is closed once the new one is up');
    assert.ok(
      (await slack.sendEnvelope('interactive', { type: 'block_actions' })).envelope,
      'envelopes go over the new connection',
    );
  });
});
