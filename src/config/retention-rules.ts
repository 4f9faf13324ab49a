/**
 * The operator's `retention` settings with their defaults, in milliseconds:
 * how long finished executions, their artifacts and sources, handled webhook
 * deliveries and abandoned local workspaces are kept, and how often the
 * prune runs. The defaults keep a month of history and a week for retries,
 * which is what a team looks back on; what environments still need is kept
 * regardless (see prune-data.ts).
 */
import { parseDuration } from './parse-duration.ts';
import type { ServerConfig } from './server.schema.ts';

export interface RetentionRules {
  executionsMs: number;
  artifactsMs: number;
  webhookPayloadsMs: number;
  webhookIdsMs: number;
  workspacesMs: number;
  intervalMs: number;
}

const DAY = 86_400_000;

export const DEFAULT_RETENTION: RetentionRules = {
  executionsMs: 30 * DAY,
  artifactsMs: 7 * DAY,
  webhookPayloadsMs: 7 * DAY,
  webhookIdsMs: 30 * DAY,
  workspacesMs: DAY,
  intervalMs: 3_600_000,
};

export function retentionRules(server: ServerConfig | undefined): RetentionRules {
  const r = server?.retention;
  const ms = (text: string | undefined, fallback: number) =>
    text === undefined ? fallback : (parseDuration(text) ?? fallback);
  return {
    executionsMs: ms(r?.executions, DEFAULT_RETENTION.executionsMs),
    artifactsMs: ms(r?.artifacts, DEFAULT_RETENTION.artifactsMs),
    webhookPayloadsMs: ms(r?.webhook_payloads, DEFAULT_RETENTION.webhookPayloadsMs),
    webhookIdsMs: ms(r?.webhook_ids, DEFAULT_RETENTION.webhookIdsMs),
    workspacesMs: ms(r?.workspaces, DEFAULT_RETENTION.workspacesMs),
    intervalMs: ms(r?.interval, DEFAULT_RETENTION.intervalMs),
  };
}
