/**
 * An environment's approval rules as the operator wrote them (PRODUCT K1,
 * K2), with their defaults: where the card goes, who may decide, how long a
 * gate waits, and whether the author of a change may approve it.
 */
import { parseDuration } from './parse-duration.ts';
import type { ServerConfig } from './server.schema.ts';

export const DEFAULT_APPROVAL_TIMEOUT = '24h';

export interface ApprovalRules {
  environment: string;
  /** The Slack channel id of the approval card. */
  channel: string;
  /** Slack user ids (U…, W…) and user group ids (S…). */
  approvers: readonly string[];
  timeoutMs: number;
  /** The timeout as written, for people: `24h`. */
  timeout: string;
  allowSelfApproval: boolean;
  /** Rollbacks deploy without asking. */
  skipForRollbacks: boolean;
}

export function approvalRules(server: ServerConfig | undefined, environment: string): ApprovalRules | undefined {
  const approval = server?.environments?.[environment]?.approval;
  if (!approval) return undefined;
  const timeout = approval.timeout ?? DEFAULT_APPROVAL_TIMEOUT;
  return {
    environment,
    channel: approval.slack_channel,
    approvers: approval.approvers,
    timeoutMs: parseDuration(timeout) ?? 24 * 3_600_000,
    timeout,
    allowSelfApproval: approval.allow_self_approval ?? false,
    skipForRollbacks: approval.skip_for_rollbacks ?? false,
  };
}
