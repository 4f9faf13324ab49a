/**
 * The lease on what a process holds in the store — its claims on running
 * actions, a deploy's environment lock — and the heartbeat that renews it.
 * A holder that stops renewing (it died, or lost its database) loses what
 * it held once the lease runs out, and a peer takes it up.
 */

/** How long a claim or an environment lock holds without renewal, unless the server config's `recovery.lease` says otherwise. */
export const DEFAULT_LEASE_MS = 30_000;

/** Renewals are never closer than this, however short the lease. */
const MIN_RENEWAL_MS = 250;

/**
 * Renews a lease every third of its length, so a renewal that fails (a
 * slow or restarting database) leaves time for another before the lease
 * runs out. `renew` says itself what a failed renewal means: it must not
 * reject. The heartbeat keeps no process alive on its own — what it guards
 * does. Returns the stop.
 */
export function keepLease(leaseMs: number, renew: () => Promise<void>): () => void {
  const timer = setInterval(() => void renew(), Math.max(MIN_RENEWAL_MS, Math.floor(leaseMs / 3)));
  timer.unref();
  return () => clearInterval(timer);
}
