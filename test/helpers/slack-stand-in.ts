/**
 * A local stand-in for Slack's Web API (the `slackApiUrl` Sluice is pointed
 * at) and for the `response_url`s of slash commands. It answers as Slack
 * documents — HTTP 200 with `{ ok: true, … }` or `{ ok: false, error }` —
 * checks the bot token, keeps messages so `chat.update` edits them, and
 * records every call. For Socket Mode it answers `apps.connections.open`
 * (with the app-level token) with a WebSocket URL of its own, says `hello`
 * to the app that connects, and sends it envelopes it must acknowledge.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export const BOT_TOKEN = 'xoxb-1111-2222-standin';
export const APP_TOKEN = 'xapp-1-A0SLUICE-3333-standin';

export interface SlackCall {
  method: string;
  args: Record<string, unknown>;
  at: number;
}

export interface SlackMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: Array<Record<string, unknown>>;
  thread_ts?: string;
  /** Every version, oldest first. */
  history: Array<{ text: string; blocks: Array<Record<string, unknown>> }>;
}

export class SlackStandIn {
  readonly calls: SlackCall[] = [];
  /** Posted to response URLs, in order, by the id in the URL. */
  readonly responses: Array<{ id: string; body: Record<string, unknown> }> = [];
  readonly messages = new Map<string, SlackMessage>();
  /** Members of user groups. */
  readonly groups = new Map<string, string[]>();
  /** Users by e-mail address. */
  readonly emails = new Map<string, string>();
  #server: Server | undefined;
  #sockets: WebSocketServer | undefined;
  /** Socket Mode connections that got their `hello`. */
  readonly #connected = new Set<WebSocket>();
  readonly #acks = new Map<string, (payload: unknown) => void>();
  readonly #failures: Array<{ method: string; error: string; count: number }> = [];
  readonly #answered = new WeakSet<SlackCall>();
  readonly #waiters: Array<{ match: (call: SlackCall) => boolean; done: (call: SlackCall) => void }> = [];
  #root = '';
  #ts = 1_700_000_000;

  async start(): Promise<this> {
    this.#server = createServer((req, res) => {
      void readBody(req).then((raw) => {
        const url = new URL(req.url ?? '/', 'http://x');
        if (url.pathname.startsWith('/response/')) {
          this.responses.push({ id: url.pathname.slice('/response/'.length), body: JSON.parse(raw || '{}') as Record<string, unknown> });
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
          return;
        }
        const method = url.pathname.replace(/^\/api\//, '');
        const args = parseArgs(req.headers['content-type'] ?? '', raw);
        const call = { method, args, at: Date.now() };
        this.calls.push(call);
        const failure = this.#failures.find((f) => f.method === method && f.count > 0);
        if (failure) {
          failure.count--;
          res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify({ ok: false, error: failure.error }));
          return;
        }
        const token = req.headers.authorization?.replace(/^Bearer /, '') ?? String(args.token ?? '');
        const answer =
          method === 'apps.connections.open'
            ? token === APP_TOKEN
              ? { ok: true, url: `${this.#root.replace(/^http/, 'ws')}/link/?ticket=${randomUUID()}` }
              : { ok: false, error: token.startsWith('xapp-') ? 'invalid_auth' : 'not_allowed_token_type' }
            : token === BOT_TOKEN
              ? this.#answer(method, args)
              : { ok: false, error: 'invalid_auth' };
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(answer));
        this.#answered.add(call);
        for (const waiter of this.#waiters.filter((w) => w.match(call))) {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          waiter.done(call);
        }
      });
    });
    this.#sockets = new WebSocketServer({ server: this.#server, path: '/link/' });
    this.#sockets.on('connection', (socket) => {
      socket.on('message', (data) => {
        const message = JSON.parse(String(data)) as { envelope_id?: string; payload?: unknown };
        if (message.envelope_id) this.#acks.get(message.envelope_id)?.(message.payload);
      });
      socket.on('close', () => this.#connected.delete(socket));
      socket.send(JSON.stringify({ type: 'hello', num_connections: 1, debug_info: { host: 'applink-standin', approximate_connection_time: 18060 }, connection_info: { app_id: 'A0SLUICE' } }));
      this.#connected.add(socket);
    });
    await new Promise<void>((done) => this.#server!.listen(0, '127.0.0.1', () => done()));
    this.#root = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  /** The next `count` calls of `method` answer `{ ok: false, error }`, as Slack does when it is in trouble. */
  failNext(method: string, error = 'fatal_error', count = 1): void {
    this.#failures.push({ method, error, count });
  }

  /** How many Socket Mode connections are open. */
  get socketConnections(): number {
    return this.#connected.size;
  }

  /**
   * Sends an envelope over Socket Mode, as Slack does for a button click
   * (`interactive`) or a slash command (`slash_commands`); resolves with the
   * app's acknowledgement.
   */
  async sendEnvelope(type: 'interactive' | 'slash_commands', payload: Record<string, unknown>): Promise<unknown> {
    const [socket] = this.#connected;
    if (!socket) throw new Error('no Socket Mode connection');
    const envelopeId = randomUUID();
    const acked = new Promise<unknown>((done) => this.#acks.set(envelopeId, done));
    socket.send(JSON.stringify({ envelope_id: envelopeId, payload, type, accepts_response_payload: type === 'slash_commands' }));
    return acked;
  }

  get apiUrl(): string {
    return `${this.#root}/api/`;
  }

  /** A response URL as Slack puts in a slash command's payload. */
  responseUrl(id: string): string {
    return `${this.#root}/response/${id}`;
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets?.clients ?? []) socket.terminate();
    this.#sockets?.close();
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

  /** Top-level messages in a channel (not thread replies), oldest first. */
  cards(channel: string): SlackMessage[] {
    return [...this.messages.values()].filter((m) => m.channel === channel && !m.thread_ts);
  }

  replies(ts: string): SlackMessage[] {
    return [...this.messages.values()].filter((m) => m.thread_ts === ts);
  }

  #answer(method: string, args: Record<string, unknown>): Record<string, unknown> {
    switch (method) {
      case 'auth.test':
        return { ok: true, url: 'https://acme.slack.com/', team: 'Acme', user: 'sluice', team_id: 'T0TEAM', user_id: 'U0SLUICE', bot_id: 'B0SLUICE' };
      case 'chat.postMessage': {
        if (typeof args.channel !== 'string') return { ok: false, error: 'channel_not_found' };
        if (!args.text && !args.blocks) return { ok: false, error: 'no_text' };
        const invalid = blocksProblem(parseBlocks(args.blocks));
        if (invalid) return { ok: false, error: 'invalid_blocks', errors: [invalid] };
        if (typeof args.thread_ts === 'string' && !this.messages.has(args.thread_ts)) return { ok: false, error: 'thread_not_found' };
        const ts = `${this.#ts++}.000100`;
        const blocks = parseBlocks(args.blocks);
        const message: SlackMessage = { channel: args.channel, ts, text: String(args.text ?? ''), blocks, history: [{ text: String(args.text ?? ''), blocks }] };
        if (typeof args.thread_ts === 'string') message.thread_ts = args.thread_ts;
        this.messages.set(ts, message);
        return { ok: true, channel: args.channel, ts, message: { text: message.text, ts } };
      }
      case 'chat.update': {
        const message = this.messages.get(String(args.ts));
        if (!message || message.channel !== args.channel) return { ok: false, error: 'message_not_found' };
        const invalid = blocksProblem(parseBlocks(args.blocks));
        if (invalid) return { ok: false, error: 'invalid_blocks', errors: [invalid] };
        message.text = String(args.text ?? message.text);
        message.blocks = parseBlocks(args.blocks);
        message.history.push({ text: message.text, blocks: message.blocks });
        return { ok: true, channel: message.channel, ts: message.ts, text: message.text };
      }
      case 'chat.postEphemeral':
        if (typeof args.user !== 'string' || typeof args.channel !== 'string') return { ok: false, error: 'user_not_in_channel' };
        return { ok: true, message_ts: `${this.#ts++}.000200` };
      case 'usergroups.users.list': {
        const users = this.groups.get(String(args.usergroup));
        return users ? { ok: true, users } : { ok: false, error: 'no_such_subteam' };
      }
      case 'users.lookupByEmail': {
        const id = this.emails.get(String(args.email));
        return id ? { ok: true, user: { id, profile: { email: args.email } } } : { ok: false, error: 'users_not_found' };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }
}

/** The Block Kit limits Slack enforces on what Sluice sends (an `invalid_blocks` error otherwise). */
function blocksProblem(blocks: Array<Record<string, unknown>>): string | undefined {
  if (blocks.length > 50) return 'at most 50 blocks';
  for (const [i, block] of blocks.entries()) {
    const text = (block.text as { text?: string } | undefined)?.text ?? '';
    switch (block.type) {
      case 'header':
        if (text.length > 150) return `blocks[${i}].text is longer than 150 characters`;
        break;
      case 'section': {
        const fields = (block.fields as Array<{ text: string }> | undefined) ?? [];
        if (!block.text && fields.length === 0) return `blocks[${i}] needs text or fields`;
        if (text.length > 3000) return `blocks[${i}].text is longer than 3000 characters`;
        if (fields.length > 10 || fields.some((f) => f.text.length > 2000)) return `blocks[${i}].fields: at most 10, of at most 2000 characters`;
        break;
      }
      case 'context':
        if (((block.elements as unknown[] | undefined) ?? []).length > 10) return `blocks[${i}].elements: at most 10`;
        break;
      case 'actions':
        for (const element of (block.elements as Array<Record<string, unknown>> | undefined) ?? []) {
          if (String(element.value ?? '').length > 2000) return `blocks[${i}] button value is longer than 2000 characters`;
          if (String(element.action_id ?? '').length > 255) return `blocks[${i}] action_id is longer than 255 characters`;
        }
        break;
      case 'divider':
        break;
      default:
        return `blocks[${i}] has an unknown type ${String(block.type)}`;
    }
  }
  return undefined;
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
