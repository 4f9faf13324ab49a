/**
 * The part of Slack's Web API Sluice uses, over Bolt's WebClient: what the
 * reporter, the approval clicks and chat-ops call, and nothing else. Slack
 * answers errors as `{ ok: false, error }`; WebClient throws them, with the
 * method's name added here so a log line says what failed.
 */
import type { webApi } from '@slack/bolt';

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

export class SlackApiError extends Error {
  readonly code = 'SLACK_API_ERROR';
  readonly slackError: string | undefined;
  constructor(method: string, cause: unknown) {
    const slackError = (cause as { data?: { error?: string } }).data?.error;
    super(`Slack's ${method} failed: ${slackError ?? (cause instanceof Error ? cause.message : String(cause))}`, { cause });
    this.name = 'SlackApiError';
    this.slackError = slackError;
  }
}

export function webClientApi(client: webApi.WebClient): SlackApi {
  const call = async <T>(method: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw new SlackApiError(method, error);
    }
  };
  return {
    async postMessage(message) {
      const answer = await call('chat.postMessage', () => client.chat.postMessage({ ...message, unfurl_links: false, unfurl_media: false }));
      return { channel: answer.channel ?? message.channel, ts: answer.ts ?? '' };
    },
    async updateMessage(message) {
      await call('chat.update', () => client.chat.update(message));
    },
    async postEphemeral(message) {
      await call('chat.postEphemeral', () => client.chat.postEphemeral(message));
    },
    async groupMembers(group) {
      const answer = await call('usergroups.users.list', () => client.usergroups.users.list({ usergroup: group }));
      return answer.users ?? [];
    },
    async userByEmail(email) {
      try {
        const answer = await client.users.lookupByEmail({ email });
        return answer.user?.id;
      } catch (error) {
        if ((error as { data?: { error?: string } }).data?.error === 'users_not_found') return undefined;
        throw new SlackApiError('users.lookupByEmail', error);
      }
    },
  };
}
