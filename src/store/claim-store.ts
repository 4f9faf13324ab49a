/**
 * Who does what, among replicas (PRODUCT R2, S8): claims on running actions,
 * renewed while their holder lives, and named locks with leases.
 */
import type { ActionRef } from './execution-store.ts';

export interface LockState {
  name: string;
  owner: string;
  reason: string;
  /** Rises with every acquisition: proof of ownership for writes with effects. */
  token: number;
  acquiredAt: number;
  /** Null: held until released. */
  expiresAt: number | null;
}

export interface ClaimStore {
  /** Extends `owner`'s claims on running actions until `until`; returns the refs it no longer holds. */
  renewClaims(owner: string, refs: ActionRef[], until: number): Promise<ActionRef[]>;
  /**
   * Running actions whose holder is gone: its claim ran out before `now`, or
   * it was never claimed and has not moved since `staleBefore`.
   */
  listExpiredClaims(
    now: number,
    staleBefore: number,
  ): Promise<Array<ActionRef & { pipelineId: string; owner: string | null }>>;

  /**
   * Take a named lock (e.g. `environment:production`) with a lease of
   * `ttlMs` (null: until released, for locks taken by hand). The same owner
   * may take it again. Refused while someone else's lease runs.
   */
  acquireLock(input: {
    name: string;
    owner: string;
    reason: string;
    ttlMs: number | null;
    now: number;
  }): Promise<{ ok: true; lock: LockState } | { ok: false; held: LockState }>;
  /** Extend a lease; false if the token no longer holds the lock (it expired and was taken). */
  renewLock(name: string, token: number, ttlMs: number, now: number): Promise<boolean>;
  /** Release by token (the holder) or by owner (a person unlocking by hand); true if it was held. */
  releaseLock(name: string, holder: { token?: number; owner?: string }, now: number): Promise<boolean>;
  /** The lock's holder, if anyone holds it now. */
  findLock(name: string, now: number): Promise<LockState | undefined>;
  /**
   * Release every lease (locks with an expiry; not those taken by hand) and
   * return them: after a crash, when this process alone uses the store, their
   * holders are known to be dead.
   */
  releaseLeases(now: number): Promise<LockState[]>;
}
