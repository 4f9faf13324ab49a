/**
 * The lease on what a process holds in the store — its claims on running
 * actions, a deploy's environment lock, a reporter's claim on a creation —
 * and the heartbeat that renews it.
 * A holder that stops renewing (it died, or lost its database) loses what
 * it held once the lease runs out, and a peer takes it up.
 */
import type { RefKind, RefStore } from './ref-store.ts';

/**
 * How long a claim or an environment lock holds without renewal, unless the server config's `recovery.lease` says
 * otherwise.
 */
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

/**
 * Runs `work` under the creation claim `owner`/`token` (RefStore's
 * claimCreation), renewing it with `clock`'s time while `work` lasts: a
 * write that GitHub or Slack keeps waiting longer than the lease (rate
 * limits, a long queue of paced writes) keeps its claim, so another replica
 * does not take it over and make the thing a second time. A renewal the
 * store fails is tried again at the next beat.
 */
export async function holdingCreation<T>(
  store: Pick<RefStore, 'renewCreation'>,
  claim: { kind: RefKind; key: string; owner: string; token: string; leaseMs: number; clock: () => number },
  work: () => Promise<T>,
): Promise<T> {
  const { kind, key, owner, token } = claim;
  const stop = keepLease(claim.leaseMs, () =>
    store.renewCreation(kind, key, { owner, token }, claim.clock()).then(
      () => {},
      () => {},
    ),
  );
  try {
    return await work();
  } finally {
    stop();
  }
}
