/**
 * The part of Slack's Web API Sluice uses, over Bolt's WebClient: what the
 * reporter, the approval clicks and chat-ops call, and nothing else. Slack
 * answers errors as `{ ok: false, error }`; WebClient throws them, with the
 * method's name added here so a log line says what failed. A text over
 * Slack's 40,000 characters is cut here, whatever sent it, so a long
 * answer or reason is shortened rather than refused.
 */
import { webApi } from '@slack/bolt';
import { errorMessage, SluiceError } from '../sluice-error.ts';
import { fitMessageText } from './slack-text.ts';

export type SlackBlock = Record<string, unknown>;

export interface SlackMessage {
  channel: string;
  text: string;
  blocks?: SlackBlock[];
  thread_ts?: string;
}

export interface SlackApi {
  postMessage(message: SlackMessage): Promise<{ channel: string; ts: string }>;
  updateMessage(message: { channel: string; ts: string; text: string; blocks: SlackBlock[] }): Promise<void>;
  postEphemeral(message: { channel: string; user: string; text: string }): Promise<void>;
  /** The user ids of a user group (S…). */
  groupMembers(group: string): Promise<string[]>;
  /** The Slack user with this e-mail address, if any. */
  userByEmail(email: string): Promise<string | undefined>;
}

export class SlackApiError extends SluiceError<'SLACK_API_ERROR'> {
  readonly slackError: string | undefined;
  /** The channel of a chat.* call, so a caller can say which channel the bot cannot post in. */
  readonly channel: string | undefined;
  constructor(method: string, cause: unknown, channel?: string) {
    const slackError = (cause as { data?: { error?: string } }).data?.error;
    super('SLACK_API_ERROR', `Slack's ${method} failed: ${slackError ?? errorMessage(cause)}`, { cause });
    this.slackError = slackError;
    this.channel = channel;
  }
}

/** Slack's answers for a channel the bot cannot post in: the operator's to fix, not Slack's. */
export const CHANNEL_ERRORS: ReadonlySet<string> = new Set(['not_in_channel', 'channel_not_found', 'is_archived']);

/**
 * Slack's answers for a bot token it no longer takes (revoked, the app uninstalled, a wrong token): every call fails
 * alike until the operator acts.
 */
export const TOKEN_ERRORS: ReadonlySet<string> = new Set([
  'invalid_auth',
  'not_authed',
  'token_revoked',
  'token_expired',
  'account_inactive',
]);

/** Where the outcome of each call, and each wait Slack asks for, is counted. */
export interface SlackCallCounter {
  apiCall(service: 'slack', outcome: 'ok' | 'client_error' | 'server_error' | 'rate_limited' | 'network_error'): void;
  rateLimitWait(service: 'slack', seconds: number): void;
}

/** How many `ratelimited` answers in a row one call waits out before it gives up. */
export const RATE_LIMIT_WAITS = 5;

/**
 * `client` must be made with `rejectRateLimitedCalls: true`: a `ratelimited`
 * answer (HTTP 429) is then waited out here, for as long as its Retry-After
 * says, and the call made again — whatever the client's retries for errors
 * are (WebClient would spend one of those on each wait, and none are left
 * when they are off).
 */
export function webClientApi(client: webApi.WebClient, counter?: SlackCallCounter): SlackApi {
  if (counter)
    client.on(
      webApi.WebClientEvent.RATE_LIMITED,
      (seconds: number) => (counter.apiCall('slack', 'rate_limited'), counter.rateLimitWait('slack', seconds)),
    );
  const attempt = async <T>(run: () => Promise<T>): Promise<T> => {
    for (let waits = 0; ; waits++) {
      try {
        const answer = await run();
        counter?.apiCall('slack', 'ok');
        return answer;
      } catch (error) {
        const retryAfter =
          (error as { code?: string; retryAfter?: number }).code === 'slack_webapi_rate_limited_error'
            ? (error as { retryAfter?: number }).retryAfter
            : undefined;
        // Counted by the RATE_LIMITED event above.
        if (retryAfter !== undefined && waits < RATE_LIMIT_WAITS) {
          await new Promise((done) => setTimeout(done, retryAfter * 1000));
          continue;
        }
        if (retryAfter === undefined) counter?.apiCall('slack', slackOutcome(error));
        throw error;
      }
    }
  };
  const call = async <T>(method: string, run: () => Promise<T>, channel?: string): Promise<T> => {
    try {
      return await attempt(run);
    } catch (error) {
      throw new SlackApiError(method, error, channel);
    }
  };
  return {
    async postMessage(message) {
      const answer = await call(
        'chat.postMessage',
        () =>
          client.chat.postMessage({
            ...message,
            text: fitMessageText(message.text),
            unfurl_links: false,
            unfurl_media: false,
          }),
        message.channel,
      );
      return { channel: answer.channel ?? message.channel, ts: answer.ts ?? '' };
    },
    async updateMessage(message) {
      await call(
        'chat.update',
        () => client.chat.update({ ...message, text: fitMessageText(message.text) }),
        message.channel,
      );
    },
    async postEphemeral(message) {
      await call(
        'chat.postEphemeral',
        () => client.chat.postEphemeral({ ...message, text: fitMessageText(message.text) }),
        message.channel,
      );
    },
    async groupMembers(group) {
      const answer = await call('usergroups.users.list', () => client.usergroups.users.list({ usergroup: group }));
      return answer.users ?? [];
    },
    async userByEmail(email) {
      try {
        const answer = await attempt(() => client.users.lookupByEmail({ email }));
        return answer.user?.id;
      } catch (error) {
        if ((error as { data?: { error?: string } }).data?.error === 'users_not_found') return undefined;
        throw new SlackApiError('users.lookupByEmail', error);
      }
    },
  };
}

/** WebClient's error codes as outcomes: Slack's own `ok: false` answers are the caller's to fix. */
function slackOutcome(error: unknown): 'client_error' | 'server_error' | 'rate_limited' | 'network_error' {
  const code = (error as { code?: string }).code;
  if (code === 'slack_webapi_rate_limited_error') return 'rate_limited';
  if (code === 'slack_webapi_request_error') return 'network_error';
  if (code === 'slack_webapi_http_error') return 'server_error';
  return 'client_error';
}
