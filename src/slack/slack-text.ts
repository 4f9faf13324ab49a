/** Small pieces of Slack's message formatting (mrkdwn), shared by cards, threads and chat-ops answers. */

export function mrkdwn(text: string): { type: 'mrkdwn'; text: string } {
  return { type: 'mrkdwn', text };
}

/** Slack's three control characters in text. */
export function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** `slack:U123` in a reason (the actor Sluice records) becomes a mention. */
export function mentionActors(text: string): string {
  return text.replace(/\bslack:([UW][A-Z0-9]+)/g, '<@$1>');
}

/** A time each reader sees in their own time zone, with a plain fallback. */
export function slackDate(ms: number): string {
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${new Date(ms).toISOString()}>`;
}

/**
 * Slack's most characters in a message's top-level `text`. Over it Slack
 * cuts the message or refuses it (`msg_too_long`), so Sluice cuts first,
 * where it can say so.
 */
export const MESSAGE_TEXT_LIMIT = 40_000;

const CUT_NOTE = '\n… (cut short: the rest is on Sluice’s page)';

/**
 * `text` within Slack's limit (counted in UTF-16 units, as JavaScript counts): whole, or cut on a character with a
 * note.
 */
export function fitMessageText(text: string, limit = MESSAGE_TEXT_LIMIT): string {
  if (text.length <= limit) return text;
  return `${cutText(text, limit - CUT_NOTE.length)}${CUT_NOTE}`;
}

/**
 * At most `max` UTF-16 units of `text`, cut where a reader sees a whole
 * character: never between the halves of an emoji (Slack would show the
 * lone half as �), inside one of escapeText's `&amp;`, `&lt;`, `&gt;`
 * (it would show "&am") or inside a mention or link `<…>` (it would show
 * the markup).
 */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  return text
    .slice(0, max)
    .replace(/[\uD800-\uDBFF]$/, '')
    .replace(/&[a-z]{0,3}$/, '')
    .replace(/<[^>]*$/, '');
}
