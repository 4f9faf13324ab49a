/**
 * The operator's `recovery` settings with their defaults: the lease of
 * running actions and deploy locks, and whether builds interrupted by a
 * dead process run again (PRODUCT R2).
 */
import { parseDuration } from './parse-duration.ts';
import type { ServerConfig } from './server.schema.ts';
import { DEFAULT_LEASE_MS } from '../store/keep-lease.ts';

export interface RecoveryRules {
  leaseMs: number;
  retryInterruptedBuilds: boolean;
}

export function recoveryRules(server: ServerConfig | undefined): RecoveryRules {
  const lease = server?.recovery?.lease;
  return {
    leaseMs: (lease === undefined ? undefined : parseDuration(lease)) ?? DEFAULT_LEASE_MS,
    retryInterruptedBuilds: server?.recovery?.retry_interrupted_builds ?? false,
  };
}
