/**
 * A local stand-in for Slack's Web API (the `slackApiUrl` Sluice is pointed
 * at) and for the `response_url`s of slash commands. It answers as Slack
 * documents — HTTP 200 with `{ ok: true, … }` or `{ ok: false, error }` —
 * checks the bot token, keeps messages so `chat.update` edits them, and
 * records every call. As strict as Slack where Sluice could trip:
 *  - Block Kit is checked on every message and update (./slack-block-kit.ts),
 *    refused with `invalid_blocks`; a top-level `text` over 40,000
 *    characters is `msg_too_long` (./slack-block-kit.ts says why);
 *  - it knows which channels exist, which the bot was invited to and who
 *    is in each: `channel_not_found` for a channel that does not exist,
 *    `not_in_channel` for one the bot is not in (until `invite`), and
 *    `user_not_in_channel` for a private answer to someone who is not in
 *    the channel (until `join`); `chat.update` edits only the bot's own
 *    messages (`cant_update_message` for a person's);
 *  - the bot token has the scopes slack-manifest.yml asks for and no more
 *    (`missing_scope` otherwise, ./slack-scopes.ts), and once revoked is
 *    `token_revoked` for every method;
 *  - a method can be rate limited: HTTP 429 `ratelimited` with
 *    `Retry-After`, and every call of it before that time has passed is
 *    refused again (and counted in `earlyCalls`);
 *  - a `response_url` takes 5 posts within 30 minutes of being issued, then
 *    404 `used_url` or `expired_url`; its `response_type` is `ephemeral`
 *    or `in_channel` (or absent), its text at most 40,000 characters.
 * For Socket Mode it answers `apps.connections.open` (with the app-level
 * token) with a WebSocket URL of its own, says `hello` to the app that
 * connects, sends it envelopes it must acknowledge within 3 seconds, can
 * redeliver one with `retry_attempt`/`retry_reason`, and can ask it to
 * reconnect with a `disconnect` envelope.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { blockKitErrors, invalidBlocksAnswer, textTooLong } from './slack-block-kit.ts';
import { RateLimits, ResponseUrls } from './slack-limits.ts';
import { manifestScopes, missingScope } from './slack-scopes.ts';
import { SocketModeLink, type SlackEnvelope } from './slack-socket-link.ts';

export { RESPONSE_URL_LIFETIME_MS, RESPONSE_URL_USES } from './slack-limits.ts';
export { ACK_WITHIN_MS, type SlackEnvelope } from './slack-socket-link.ts';

export const BOT_TOKEN = 'xoxb-1111-2222-standin';
export const APP_TOKEN = 'xapp-1-A0SLUICE-3333-standin';

export interface SlackCall {
  method: string;
  args: Record<string, unknown>;
  at: number;
}

/** The channel every test's approvals go to: it exists, and a test invites the bot (and its people) to it. */
export const DEFAULT_CHANNEL = 'C0DEPLOYS';
export interface SlackMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: Array<Record<string, unknown>>;
  thread_ts?: string;
  /** Who posted it, when not the bot (a person's message the bot cannot edit). */
  user?: string;
  /** Every version, oldest first. */
  history: Array<{ text: string; blocks: Array<Record<string, unknown>> }>;
}

export class SlackStandIn {
  readonly calls: SlackCall[] = [];
  readonly messages = new Map<string, SlackMessage>();
  /** Members of user groups. */
  readonly groups = new Map<string, string[]>();
  /** Users by e-mail address. */
  readonly emails = new Map<string, string>();
  /**
   * Channels that exist, by id, whether the bot is a member, and which
   * users are (none unless a test says): a private answer to anyone else
   * is `user_not_in_channel`, as on Slack.
   */
  readonly channels = new Map<string, { name: string; member: boolean; users?: ReadonlySet<string> }>([
    [DEFAULT_CHANNEL, { name: 'deploys', member: false }],
  ]);
  /** The bot token's scopes: slack-manifest.yml's unless a test narrows them. */
  readonly scopes: readonly string[];
  readonly #limits = new RateLimits();
  readonly #responseUrls: ResponseUrls;
  #server: Server | undefined;
  #link: SocketModeLink | undefined;
  readonly #failures: Array<{ method: string; error: string; count: number }> = [];
  readonly #answered = new WeakSet<SlackCall>();
  readonly #waiters: Array<{ match: (call: SlackCall) => boolean; done: (call: SlackCall) => void }> = [];
  #root = '';
  #ts = 1_700_000_000;
  #revoked = false;

  /** `clock`: Slack's time, for how long a `response_url` lives (tests move it on). */
  constructor(options: { clock?: () => number; scopes?: string[] } = {}) {
    this.#responseUrls = new ResponseUrls(options.clock ?? Date.now);
    this.scopes = options.scopes ?? manifestScopes();
  }

  async start(): Promise<this> {
    this.#server = createServer((req, res) => {
      void readBody(req).then((raw) => {
        const url = new URL(req.url ?? '/', 'http://x');
        if (url.pathname.startsWith('/response/')) {
          const [status, answer] = this.#responseUrls.post(url.pathname.slice('/response/'.length), raw);
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
          return;
        }
        const method = url.pathname.replace(/^\/api\//, '');
        const args = parseArgs(req.headers['content-type'] ?? '', raw);
        const call = { method, args, at: Date.now() };
        this.calls.push(call);
        const retryAfter = this.#limits.check(method, call.at);
        if (retryAfter !== undefined) {
          res
            .writeHead(429, { 'content-type': 'application/json; charset=utf-8', 'retry-after': String(retryAfter) })
            .end('{"ok":false,"error":"ratelimited"}');
          return;
        }
        const failure = this.#failures.find((f) => f.method === method && f.count > 0);
        if (failure) {
          failure.count--;
          res
            .writeHead(200, { 'content-type': 'application/json; charset=utf-8' })
            .end(JSON.stringify({ ok: false, error: failure.error }));
          return;
        }
        const token = req.headers.authorization?.replace(/^Bearer /, '') ?? String(args.token ?? '');
        const answer =
          method === 'apps.connections.open'
            ? token === APP_TOKEN
              ? { ok: true, url: `${this.#root.replace(/^http/, 'ws')}/link/?ticket=${randomUUID()}` }
              : { ok: false, error: token.startsWith('xapp-') ? 'invalid_auth' : 'not_allowed_token_type' }
            : token === BOT_TOKEN
              ? this.#revoked
                ? { ok: false, error: 'token_revoked' }
                : (missingScope(method, this.scopes) ?? this.#answer(method, args))
              : { ok: false, error: 'invalid_auth' };
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(answer));
        this.#answered.add(call);
        for (const waiter of this.#waiters.filter((w) => w.match(call))) {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          waiter.done(call);
        }
      });
    });
    this.#link = new SocketModeLink(this.#server, '/link/');
    await new Promise<void>((done) => this.#server!.listen(0, '127.0.0.1', () => done()));
    this.#root = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  /**
   * `/invite @sluice` in a channel (one that exists, or a new one named
   * after its id): the bot may post there from now on.
   */
  invite(channel: string): void {
    const known = this.channels.get(channel);
    this.channels.set(channel, { ...(known ?? { name: channel.toLowerCase() }), member: true });
  }

  /** People join a channel: they can get private answers (chat.postEphemeral) in it. */
  join(channel: string, users: string[]): void {
    const known = this.channels.get(channel);
    if (!known) throw new Error(`no channel ${channel} in the stand-in`);
    this.channels.set(channel, { ...known, users: new Set([...(known.users ?? []), ...users]) });
  }

  /**
   * The bot token is revoked (the app uninstalled, say): every call with it is `token_revoked`, as Slack answers;
   * `false` puts it back.
   */
  revokeToken(revoked = true): void {
    this.#revoked = revoked;
  }

  /** The next `count` calls of `method` answer `{ ok: false, error }`, as Slack does when it is in trouble. */
  failNext(method: string, error = 'fatal_error', count = 1): void {
    this.#failures.push({ method, error, count });
  }

  /**
   * The next `count` calls of `method` are answered HTTP 429 `ratelimited`
   * with `Retry-After: seconds`, as Slack answers a method called too often.
   */
  rateLimit(method: string, seconds: number, count = 1): void {
    this.#limits.add(method, seconds, count);
  }

  /** Every 429 answered, with the `Retry-After` it gave. */
  get rateLimited(): ReadonlyArray<{ method: string; at: number; retryAfter: number }> {
    return this.#limits.answered;
  }

  /** Calls of a rate-limited method made before its `Retry-After` had passed. */
  get earlyCalls(): number {
    return this.#limits.early;
  }

  /** Taken by response URLs, in order, by the id in the URL. */
  get responses(): ReadonlyArray<{ id: string; body: Record<string, unknown> }> {
    return this.#responseUrls.taken;
  }

  /** Posts to response URLs Slack refused (`used_url`, `expired_url`). */
  get refusedResponses(): ReadonlyArray<{ id: string; error: string }> {
    return this.#responseUrls.refused;
  }

  /** How many Socket Mode connections are open. */
  get socketConnections(): number {
    return this.#link?.connections ?? 0;
  }

  /**
   * Sends an envelope over Socket Mode, as Slack does for a button click
   * (`interactive`) or a slash command (`slash_commands`); resolves with the
   * app's acknowledgement, and rejects as Slack gives up on one that takes
   * longer than 3 seconds. `redeliver`: the same envelope again, as Slack
   * sends one it got no acknowledgement for.
   */
  sendEnvelope(
    type: SlackEnvelope['type'],
    payload: Record<string, unknown>,
    redeliver?: { of: SlackEnvelope; reason?: string },
  ): Promise<{ ack: unknown; envelope: SlackEnvelope }> {
    if (!this.#link) throw new Error('the stand-in is not started');
    return this.#link.send(type, payload, redeliver);
  }

  /**
   * Asks the app to reconnect, as Slack does before it recycles a
   * connection (`refresh_requested`, `warning`, `link_disabled`): sends a
   * `disconnect` envelope, waits for the app's new connection to get its
   * `hello`, and then closes the old one.
   */
  async disconnect(reason = 'refresh_requested'): Promise<void> {
    if (!this.#link) throw new Error('the stand-in is not started');
    await this.#link.disconnect(reason);
  }

  get apiUrl(): string {
    return `${this.#root}/api/`;
  }

  /** A response URL as Slack puts in a slash command's payload; its 30 minutes start now. */
  responseUrl(id: string): string {
    this.#responseUrls.issue(id);
    return `${this.#root}/response/${id}`;
  }

  async stop(): Promise<void> {
    this.#link?.close();
    this.#server?.closeAllConnections();
    await new Promise<void>((done) => (this.#server ? this.#server.close(() => done()) : done()));
  }

  /** Resolves with the first answered call that matches: one already answered, or the next to come. */
  waitForCall(match: (call: SlackCall) => boolean): Promise<SlackCall> {
    const seen = this.calls.find((c) => this.#answered.has(c) && match(c));
    if (seen) return Promise.resolve(seen);
    return new Promise((done) => this.#waiters.push({ match, done }));
  }

  /** Calls of one method, in order. */
  called(method: string): SlackCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** A message a person posted in a channel (not the bot): Slack lets the bot read it, not edit it. Returns its ts. */
  postAsUser(channel: string, user: string, text: string): string {
    const ts = `${this.#ts++}.000300`;
    this.messages.set(ts, { channel, ts, text, blocks: [], user, history: [{ text, blocks: [] }] });
    return ts;
  }

  /** Top-level messages in a channel (not thread replies), oldest first. */
  cards(channel: string): SlackMessage[] {
    return [...this.messages.values()].filter((m) => m.channel === channel && !m.thread_ts);
  }

  replies(ts: string): SlackMessage[] {
    return [...this.messages.values()].filter((m) => m.thread_ts === ts);
  }

  /** `channel_not_found` or `not_in_channel`, for a channel the bot cannot post in. */
  #channelProblem(channel: unknown): string | undefined {
    const known = typeof channel === 'string' ? this.channels.get(channel) : undefined;
    if (!known) return 'channel_not_found';
    return known.member ? undefined : 'not_in_channel';
  }

  #answer(method: string, args: Record<string, unknown>): Record<string, unknown> {
    switch (method) {
      case 'auth.test':
        return {
          ok: true,
          url: 'https://acme.slack.com/',
          team: 'Acme',
          user: 'sluice',
          team_id: 'T0TEAM',
          user_id: 'U0SLUICE',
          bot_id: 'B0SLUICE',
        };
      case 'chat.postMessage': {
        const problem = this.#channelProblem(args.channel);
        if (problem) return { ok: false, error: problem };
        if (!args.text && !args.blocks) return { ok: false, error: 'no_text' };
        const tooLong = textTooLong(args.text);
        if (tooLong) return { ok: false, error: tooLong };
        const errors = args.blocks === undefined ? [] : blockKitErrors(parseBlocks(args.blocks));
        if (errors.length > 0) return invalidBlocksAnswer(errors);
        if (typeof args.thread_ts === 'string' && !this.messages.has(args.thread_ts))
          return { ok: false, error: 'thread_not_found' };
        const ts = `${this.#ts++}.000100`;
        const blocks = parseBlocks(args.blocks);
        const text = String(args.text ?? '');
        const message: SlackMessage = { channel: String(args.channel), ts, text, blocks, history: [{ text, blocks }] };
        if (typeof args.thread_ts === 'string') message.thread_ts = args.thread_ts;
        this.messages.set(ts, message);
        return { ok: true, channel: message.channel, ts, message: { text: message.text, ts } };
      }
      case 'chat.update': {
        const problem = this.#channelProblem(args.channel);
        if (problem) return { ok: false, error: problem };
        const message = this.messages.get(String(args.ts));
        if (!message || message.channel !== args.channel) return { ok: false, error: 'message_not_found' };
        if (message.user !== undefined) return { ok: false, error: 'cant_update_message' };
        const tooLong = textTooLong(args.text);
        if (tooLong) return { ok: false, error: tooLong };
        const errors = args.blocks === undefined ? [] : blockKitErrors(parseBlocks(args.blocks));
        if (errors.length > 0) return invalidBlocksAnswer(errors);
        message.text = String(args.text ?? message.text);
        message.blocks = parseBlocks(args.blocks);
        message.history.push({ text: message.text, blocks: message.blocks });
        return { ok: true, channel: message.channel, ts: message.ts, text: message.text };
      }
      case 'chat.postEphemeral': {
        const problem = this.#channelProblem(args.channel);
        if (problem) return { ok: false, error: problem };
        const users = this.channels.get(String(args.channel))?.users;
        if (typeof args.user !== 'string' || !users?.has(args.user)) return { ok: false, error: 'user_not_in_channel' };
        if (!args.text && !args.blocks) return { ok: false, error: 'no_text' };
        const tooLong = textTooLong(args.text);
        if (tooLong) return { ok: false, error: tooLong };
        const errors = args.blocks === undefined ? [] : blockKitErrors(parseBlocks(args.blocks));
        if (errors.length > 0) return invalidBlocksAnswer(errors);
        return { ok: true, message_ts: `${this.#ts++}.000200` };
      }
      case 'usergroups.users.list': {
        const users = this.groups.get(String(args.usergroup));
        return users ? { ok: true, users } : { ok: false, error: 'no_such_subteam' };
      }
      case 'users.lookupByEmail': {
        const id = this.emails.get(String(args.email));
        return id
          ? { ok: true, user: { id, profile: { email: args.email } } }
          : { ok: false, error: 'users_not_found' };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }
}

function parseArgs(contentType: string, raw: string): Record<string, unknown> {
  if (contentType.includes('application/json')) return JSON.parse(raw || '{}') as Record<string, unknown>;
  return Object.fromEntries(new URLSearchParams(raw));
}

function parseBlocks(blocks: unknown): Array<Record<string, unknown>> {
  if (typeof blocks === 'string') return JSON.parse(blocks) as Array<Record<string, unknown>>;
  return (blocks as Array<Record<string, unknown>> | undefined) ?? [];
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
