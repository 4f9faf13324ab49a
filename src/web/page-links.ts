/**
 * Links to an execution's page. The page shows logs, so a link carries an
 * HMAC of the execution id: it cannot be guessed from the id, and whoever
 * has a link (from a check run or a Slack card) can open it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface PageLinks {
  /** The execution's page; with `stage`, scrolled to that stage's logs. */
  executionUrl(executionId: string, stage?: string): string;
  /** The page's live updates (server-sent events), as a path on the page's own server. */
  eventsPath(executionId: string): string;
  verify(executionId: string, signature: string): boolean;
}

export function createPageLinks(baseUrl: string, key: string): PageLinks {
  const sign = (executionId: string) =>
    createHmac('sha256', key).update(`execution:${executionId}`).digest('base64url').slice(0, 32);
  return {
    executionUrl(executionId, stage) {
      const url = `${baseUrl}/executions/${encodeURIComponent(executionId)}?sig=${sign(executionId)}`;
      return stage ? `${url}#stage-${encodeURIComponent(stage)}` : url;
    },
    eventsPath(executionId) {
      return `/executions/${encodeURIComponent(executionId)}/events?sig=${sign(executionId)}`;
    },
    verify(executionId, signature) {
      const expected = Buffer.from(sign(executionId));
      const given = Buffer.from(signature);
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
}
