/**
 * How often the service's sweep runs: it interrupts the actions of dead
 * peers, expires approvals, tries unreachable hosts again and posts to Slack
 * what Slack did not take before. Half the lease, so a dead peer's action is
 * noticed within a lease, and never more than MAX_SWEEP_INTERVAL_MS apart.
 */
export const MAX_SWEEP_INTERVAL_MS = 30_000;

/** The sweep's interval for claims held `leaseMs` without renewal. */
export function sweepIntervalMs(leaseMs: number): number {
  return Math.min(MAX_SWEEP_INTERVAL_MS, Math.floor(leaseMs / 2));
}
