/** `ClaimStore` over Kysely: claims on running actions and named locks. */
import type { ClaimStore, LockState } from './claim-store.ts';
import type { DatabaseKind, Db } from './database.ts';
import type { ActionRef } from './execution-store.ts';
import { inTransaction } from './in-transaction.ts';
import { acquireLock, findLock, releaseLeases, releaseLock, renewLock } from './queries/locks.ts';
import { renewClaims, selectExpiredClaims } from './queries/runs.ts';

export function makeClaimStore(db: Db, kind: DatabaseKind): ClaimStore {
  return {
    async renewClaims(owner: string, refs: ActionRef[], until: number): Promise<ActionRef[]> {
      if (refs.length === 0) return [];
      const lost = await inTransaction(db, (trx) => renewClaims(trx, owner, refs, until));
      return lost.map((i) => refs[i]!);
    },

    async listExpiredClaims(now: number, staleBefore: number) {
      const rows = await selectExpiredClaims(db, now, staleBefore);
      return rows.map((r) => ({
        executionId: r.execution_id,
        stage: r.stage,
        action: r.action,
        attempt: r.attempt,
        pipelineId: r.pipeline_id,
        owner: r.claimed_by ?? null,
      }));
    },

    async acquireLock(input: { name: string; owner: string; reason: string; ttlMs: number | null; now: number }) {
      return inTransaction(db, (trx) => acquireLock(trx, kind, input));
    },

    async renewLock(name: string, token: number, ttlMs: number, now: number): Promise<boolean> {
      return inTransaction(db, (trx) => renewLock(trx, kind, name, token, ttlMs, now));
    },

    async releaseLock(name: string, holder: { token?: number; owner?: string }, now: number): Promise<boolean> {
      return inTransaction(db, (trx) => releaseLock(trx, kind, name, holder, now));
    },

    async releaseLeases(now: number): Promise<LockState[]> {
      return inTransaction(db, (trx) => releaseLeases(trx, now));
    },

    async findLock(name: string, now: number): Promise<LockState | undefined> {
      return findLock(db, name, now);
    },
  };
}
