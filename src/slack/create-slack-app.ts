/**
 * Bolt as Sluice's Slack side (PRODUCT K1–K6), wired in steps:
 *  1. the Web API client, pointed at SLACK_API_URL when it is set;
 *  2. the receiver: HTTP at `/slack/events` on Sluice's own server (the
 *     signing secret and Slack's 5-minute window checked by Bolt), or
 *     Socket Mode when an app-level token is given;
 *  3. thin listeners — ack() first (Slack waits 3 s), then the approval click
 *     or the `/sluice` command, once per trigger, answered to the user who
 *     sent it;
 *  4. `auth.test` before Sluice says it is up, so a wrong token stops start-up.
 * `bolt.start()` is never called: Sluice owns the HTTP server.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readLimitedBody, refuseBody } from '../web/read-limited-body.ts';
import { App, ErrorCode, HTTPReceiver, LogLevel, SocketModeReceiver, type Logger } from '@slack/bolt';
import type { SlackSettings } from '../config/read-settings.ts';
import { APPROVE_ACTION, REJECT_ACTION } from './approval-card.ts';
import type { ChatAnswer } from './chat-ops/run-chat-command.ts';
import type { ApprovalClick, ClickAnswer } from './decide-approval.ts';
import { webClientApi, type SlackApi, type SlackCallCounter } from './slack-api.ts';
import { fitMessageText } from './slack-text.ts';
import { errorMessage, SluiceError } from '../sluice-error.ts';

export const SLACK_EVENTS_PATH = '/slack/events';
export const SLASH_COMMAND = '/sluice';
/** How long a click's or command's `trigger_id` is remembered, to know Slack's redelivery of it. */
const TRIGGER_MEMORY_MS = 30 * 60_000;

export interface SlackHandlers {
  decide(click: ApprovalClick): Promise<ClickAnswer>;
  chat(user: string, text: string): Promise<ChatAnswer>;
}

export interface SlackApp {
  api: SlackApi;
  /** HTTP mode: answers `/slack/*` and returns true; false leaves the request to others. */
  route?(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** The user id of Sluice's bot, from `auth.test`. */
  botUserId: string | undefined;
  /** Socket Mode connects here; HTTP mode needs nothing. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Resolves when no click or command is being handled. */
  idle(): Promise<void>;
  readonly busy: boolean;
}

/** Bolt's own default limit on a request body; Slack's requests are a few KiB. */
const SLACK_BODY_LIMIT = 10 * 1024 * 1024;

export class SlackStartError extends SluiceError<'SLACK_START_FAILED'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SLACK_START_FAILED', message, options);
  }
}

/** `handlersFor` gets the Web API, which the handlers use to look people up. */
export async function createSlackApp(
  settings: SlackSettings,
  handlersFor: (api: SlackApi) => SlackHandlers,
  options: { log(line: string): void; warn?(line: string): void; retries?: number; counter?: SlackCallCounter },
): Promise<SlackApp> {
  const logger = boltLogger(options.log, options.warn);
  const clientOptions = {
    ...(settings.apiUrl && { slackApiUrl: settings.apiUrl }),
    retryConfig: { retries: options.retries ?? 3 },
    logger,
  };
  const socket = settings.appToken
    ? new SocketModeReceiver({ appToken: settings.appToken, logger, installerOptions: { clientOptions } })
    : undefined;
  const http = socket
    ? undefined
    : new HTTPReceiver({ signingSecret: settings.signingSecret ?? '', endpoints: SLACK_EVENTS_PATH, logger });
  // Sluice's own calls wait out `ratelimited` themselves (webClientApi), however many retries are set.
  const app = new App({
    token: settings.botToken,
    receiver: socket ?? http,
    clientOptions: { ...clientOptions, rejectRateLimitedCalls: true },
    logger,
    deferInitialization: true,
  });
  const api = webClientApi(app.client, options.counter);
  const handlers = handlersFor(api);

  const inFlight = new Set<Promise<unknown>>();
  const track = <T>(work: Promise<T>): Promise<T> => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work)).catch(() => {});
    return work;
  };
  // Slack sends a click or command again when it missed the acknowledgement
  // (Socket Mode `retry_attempt`, HTTP `X-Slack-Retry-Num`); Sluice acked it
  // and took it the first time, so the same trigger is not acted on twice.
  const triggers = new Map<string, number>();
  const firstTime = (trigger: string | undefined, retryNum: number | undefined, what: string): boolean => {
    const now = Date.now();
    for (const [id, at] of triggers) if (now - at > TRIGGER_MEMORY_MS || triggers.size > 10_000) triggers.delete(id);
    if (trigger === undefined) return true;
    if (triggers.has(trigger)) {
      options.log(
        `Slack delivered a ${what} again${retryNum ? ` (retry ${retryNum})` : ''}; Sluice took it the first time and ignores this one.`,
      );
      return false;
    }
    triggers.set(trigger, now);
    return true;
  };
  const failed = (what: string, error: unknown) =>
    (options.warn ?? options.log)(`Sluice could not handle a Slack ${what}: ${errorMessage(error)}`);

  app.action(new RegExp(`^(${APPROVE_ACTION}|${REJECT_ACTION})$`), async ({ ack, body, action, context }) => {
    await ack();
    if (body.type !== 'block_actions' || action.type !== 'button' || !('action_id' in action)) return;
    if (!firstTime(body.trigger_id, context.retryNum, 'button click')) return;
    const channel = body.channel?.id ?? body.container?.channel_id;
    const user = body.user.id;
    await track(
      (async () => {
        let answer: ClickAnswer;
        try {
          answer = await handlers.decide({
            user,
            approved: action.action_id === APPROVE_ACTION,
            value: action.value ?? '',
          });
        } catch (error) {
          failed('button click', error);
          answer = {
            ok: false,
            text: 'Sluice failed to handle your click, so nothing was decided; its log says why. Try again in a moment.',
          };
        }
        if (!answer.ok && channel) await api.postEphemeral({ channel, user, text: answer.text });
      })(),
    ).catch((error: unknown) => failed('button click answer', error));
  });

  app.command(SLASH_COMMAND, async ({ ack, command, respond, context }) => {
    await ack();
    if (!firstTime(command.trigger_id, context.retryNum, `${SLASH_COMMAND} command`)) return;
    await track(
      (async () => {
        let answer: ChatAnswer;
        try {
          answer = await handlers.chat(command.user_id, command.text);
        } catch (error) {
          failed('command', error);
          answer = { text: 'Sluice failed to carry out that command; its log says why.' };
        }
        try {
          await respond({
            response_type: answer.inChannel ? 'in_channel' : 'ephemeral',
            text: fitMessageText(answer.text),
          });
        } catch (error) {
          // A response URL takes 5 posts within 30 minutes (then Slack answers 404
          // used_url or expired_url): the answer goes with the bot token instead.
          options.log(
            `Slack refused the answer to /sluice ${command.text.split(/\s/)[0] ?? ''} at its response URL (${errorMessage(error)}), so it goes to ${command.channel_id} with the bot token.`,
          );
          if (answer.inChannel) await api.postMessage({ channel: command.channel_id, text: answer.text });
          else await api.postEphemeral({ channel: command.channel_id, user: command.user_id, text: answer.text });
        }
      })(),
    ).catch((error: unknown) => failed('command answer', error));
  });

  app.error(async (error) => failed('request', error));

  try {
    await app.init();
  } catch (error) {
    throw new SlackStartError(slackStartMessage(error, settings.apiUrl ?? 'https://slack.com/api/'), { cause: error });
  }
  const auth = await app.client.auth.test().catch(() => undefined);

  return {
    api,
    botUserId: auth?.user_id,
    ...(http && {
      async route(req: IncomingMessage, res: ServerResponse) {
        const path = new URL(req.url ?? '/', 'http://sluice.invalid').pathname;
        if (!path.startsWith('/slack/')) return false;
        // Bolt reads a body already read (`rawBody`); read here, it has Sluice's size limit and deadline.
        if (req.method === 'POST') {
          const read = await readLimitedBody(req, SLACK_BODY_LIMIT);
          if (!read.ok) {
            refuseBody(req, res, read.status, '10 MiB Sluice takes from Slack');
            return true;
          }
          Object.assign(req, { rawBody: read.body });
        }
        try {
          http.requestListener(req, res);
        } catch (error) {
          if ((error as { code?: string }).code !== ErrorCode.HTTPReceiverDeferredRequestError) throw error;
          res
            .writeHead(404, { 'content-type': 'text/plain' })
            .end(
              `Sluice takes Slack's requests (events, interactivity, ${SLASH_COMMAND}) at POST ${SLACK_EVENTS_PATH}.\n`,
            );
        }
        return true;
      },
    }),
    async start() {
      if (socket) await socket.start();
    },
    async stop() {
      if (socket) await socket.stop().catch(() => {});
      await Promise.allSettled([...inFlight]);
    },
    async idle() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    get busy() {
      return inFlight.size > 0;
    },
  };
}

/**
 * Bolt's and the Web API's warnings and errors, in Sluice's log: at warn level when `warn` is given, so a JSON log
 * reader finds them.
 */
export function boltLogger(log: (line: string) => void, warn: (line: string) => void = log): Logger {
  let level = LogLevel.WARN;
  const order = [LogLevel.DEBUG, LogLevel.INFO, LogLevel.WARN, LogLevel.ERROR];
  const at =
    (which: LogLevel) =>
    (...msg: unknown[]) => {
      if (order.indexOf(which) >= order.indexOf(level))
        (order.indexOf(which) >= order.indexOf(LogLevel.WARN) ? warn : log)(
          `Slack ${which}: ${msg.map(String).join(' ')}`,
        );
    };
  return {
    debug: at(LogLevel.DEBUG),
    info: at(LogLevel.INFO),
    warn: at(LogLevel.WARN),
    error: at(LogLevel.ERROR),
    setLevel(next) {
      level = next;
    },
    getLevel: () => level,
    setName() {},
  };
}

/**
 * Why `auth.test` failed, told apart: Slack answering that it refuses the
 * token (copy it again) is not Slack being out of reach (look at the
 * network or SLACK_API_URL; the token was never checked).
 */
export function slackStartMessage(error: unknown, apiUrl: string): string {
  const e = error as {
    code?: string;
    data?: { error?: string };
    statusCode?: number;
    original?: { message?: string; cause?: { code?: string; message?: string } };
  };
  if (e.code === 'slack_webapi_platform_error') {
    return `Slack refused SLACK_BOT_TOKEN (auth.test: ${e.data?.error ?? 'refused'}); copy the bot token from the Slack app's "OAuth & Permissions" page.`;
  }
  if (e.code === 'slack_webapi_request_error') {
    const why = e.original?.cause?.code ?? e.original?.cause?.message ?? e.original?.message ?? 'no answer';
    return `Slack could not be reached at ${apiUrl} (${why}), so SLACK_BOT_TOKEN could not be checked: check this machine's network and proxy${apiUrl.startsWith('https://slack.com/') ? '' : ', and SLACK_API_URL'}, then start Sluice again.`;
  }
  if (e.code === 'slack_webapi_http_error') {
    return `Slack answered auth.test with HTTP ${e.statusCode ?? '?'} at ${apiUrl}, so SLACK_BOT_TOKEN could not be checked: Slack may be having trouble (status.slack.com)${apiUrl.startsWith('https://slack.com/') ? '' : ', or SLACK_API_URL is not a Slack Web API root'}.`;
  }
  return `Slack refused SLACK_BOT_TOKEN (auth.test: ${errorMessage(error)}); copy the bot token from the Slack app's "OAuth & Permissions" page.`;
}
