/**
 * The operator's `recovery` settings with their defaults: the lease of
 * running actions and deploy locks, and whether builds interrupted by a
 * dead process run again (PRODUCT R2).
 */
import { parseDuration } from './parse-duration.ts';
import type { ServerConfig } from './server.schema.ts';

export const DEFAULT_LEASE = '30s';

export interface RecoveryRules {
  leaseMs: number;
  retryInterruptedBuilds: boolean;
}

export function recoveryRules(server: ServerConfig | undefined): RecoveryRules {
  return {
    leaseMs: parseDuration(server?.recovery?.lease ?? DEFAULT_LEASE) ?? 30_000,
    retryInterruptedBuilds: server?.recovery?.retry_interrupted_builds ?? false,
  };
}
