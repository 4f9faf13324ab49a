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

export function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
