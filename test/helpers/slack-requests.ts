/**
 * Requests as Slack sends them to an app's request URL: form-encoded, signed
 * with the app's signing secret over `v0:<timestamp>:<body>` (Slack's
 * "Verifying requests from Slack"), for button clicks (`block_actions`, the
 * payload in a `payload` field) and slash commands.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { SlackMessage } from './slack-stand-in.ts';

export const SIGNING_SECRET = 'slack-signing-secret-for-tests';

export interface SignedRequest {
  body: string;
  headers: Record<string, string>;
}

export function signSlackRequest(
  body: string,
  options: { secret?: string; timestamp?: number; tamper?: boolean } = {},
): SignedRequest {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const signature = `v0=${createHmac('sha256', options.secret ?? SIGNING_SECRET)
    .update(`v0:${timestamp}:${options.tamper ? `${body}x` : body}`)
    .digest('hex')}`;
  return {
    body,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': signature,
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
    },
  };
}

export async function sendSlackRequest(url: string, request: SignedRequest): Promise<{ status: number; text: string }> {
  const response = await fetch(`${url}/slack/events`, { method: 'POST', headers: request.headers, body: request.body });
  return { status: response.status, text: await response.text() };
}

/** A click on one of a card's buttons, as Slack sends it over HTTP once the user confirmed. */
export function buttonClick(
  card: SlackMessage,
  actionId: string,
  user: string,
  options: { responseUrl?: string } = {},
): string {
  return new URLSearchParams({ payload: JSON.stringify(buttonClickPayload(card, actionId, user, options)) }).toString();
}

/** The `block_actions` payload of a click (the envelope's payload in Socket Mode). */
export function buttonClickPayload(
  card: SlackMessage,
  actionId: string,
  user: string,
  options: { responseUrl?: string } = {},
): Record<string, unknown> {
  const actions = card.blocks.find((b) => b.type === 'actions') as
    { block_id: string; elements: Array<Record<string, unknown>> } | undefined;
  const button = actions?.elements.find((e) => e.action_id === actionId);
  if (!actions || !button) throw new Error(`the card has no ${actionId} button: ${JSON.stringify(card.blocks)}`);
  const payload = {
    type: 'block_actions',
    user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: 'T0TEAM' },
    api_app_id: 'A0SLUICE',
    token: 'legacy-verification-token',
    container: { type: 'message', message_ts: card.ts, channel_id: card.channel, is_ephemeral: false },
    trigger_id: `${Date.now()}.${randomBytes(4).toString('hex')}`,
    team: { id: 'T0TEAM', domain: 'acme' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: card.channel, name: 'deploys' },
    message: {
      type: 'message',
      subtype: 'bot_message',
      text: card.text,
      ts: card.ts,
      bot_id: 'B0SLUICE',
      blocks: card.blocks,
    },
    state: { values: {} },
    response_url: options.responseUrl ?? 'https://hooks.slack.com/actions/T0TEAM/1/standin',
    actions: [
      {
        action_id: actionId,
        block_id: actions.block_id,
        text: button.text,
        value: button.value,
        style: button.style,
        type: 'button',
        action_ts: `${Date.now() / 1000}`,
      },
    ],
  };
  return payload;
}

/** `/sluice <text>` typed by `user` in a channel, as Slack posts it over HTTP. */
export function slashCommand(text: string, user: string, responseUrl: string): string {
  return new URLSearchParams(slashCommandFields(text, user, responseUrl)).toString();
}

/** The fields of a slash command (the envelope's payload in Socket Mode). */
export function slashCommandFields(text: string, user: string, responseUrl: string): Record<string, string> {
  return {
    token: 'legacy-verification-token',
    team_id: 'T0TEAM',
    team_domain: 'acme',
    channel_id: 'C0DEPLOYS',
    channel_name: 'deploys',
    user_id: user,
    user_name: user.toLowerCase(),
    command: '/sluice',
    text,
    api_app_id: 'A0SLUICE',
    is_enterprise_install: 'false',
    response_url: responseUrl,
    trigger_id: `${Date.now()}.${randomBytes(4).toString('hex')}`,
  };
}
