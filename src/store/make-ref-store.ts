/** `RefStore` over Kysely: the external refs table, and claims on creations in it. */
import { randomUUID } from 'node:crypto';
import type { Db } from './database.ts';
import { inTransaction } from './in-transaction.ts';
import {
  CREATION_CLAIM,
  deleteCreationClaim,
  deleteRef,
  renewCreationClaim,
  selectRef,
  selectRefsByPrefix,
  upsertCreationClaim,
  upsertRef,
} from './queries/external-refs.ts';
import { parseCreationClaim, parseRef } from './ref-kinds.ts';
import type { CreationClaim, CreationDecision, RefKind, RefKinds, RefStore } from './ref-store.ts';

export function makeRefStore(db: Db): RefStore {
  return {
    async getRef<K extends RefKind>(kind: K, key: string): Promise<RefKinds[K] | undefined> {
      const value = await selectRef(db, kind, key);
      return value === undefined ? undefined : parseRef(kind, key, value);
    },

    async putRef<K extends RefKind>(kind: K, key: string, value: RefKinds[K], now: number): Promise<void> {
      await upsertRef(db, kind, key, JSON.stringify(value), now);
    },

    async deleteRef(kind: RefKind, key: string): Promise<void> {
      await deleteRef(db, kind, key);
    },

    async listRefs<K extends RefKind>(kind: K, prefix: string): Promise<Array<{ key: string; value: RefKinds[K] }>> {
      const rows = await selectRefsByPrefix(db, kind, prefix);
      return rows.map((row) => ({ key: row.key, value: parseRef(kind, row.key, row.value) }));
    },

    async claimCreation<K extends RefKind>(
      kind: K,
      key: string,
      claim: { owner: string; now: number; leaseMs: number },
      needed: (value: RefKinds[K] | undefined) => boolean,
    ): Promise<CreationDecision<K>> {
      const token = randomUUID();
      const mine = JSON.stringify({ owner: claim.owner, token } satisfies CreationClaim);
      const claimKey = creationKey(kind, key);
      return inTransaction(db, async (trx) => {
        // The claim first, the ref after: whoever made it before this claim stood has recorded it by now.
        const standing = await upsertCreationClaim(trx, claimKey, mine, claim.now, claim.now - claim.leaseMs);
        const raw = await selectRef(trx, kind, key);
        const value = raw === undefined ? undefined : parseRef(kind, key, raw);
        if (!needed(value)) {
          if (standing === mine) await deleteCreationClaim(trx, claimKey, mine);
          return { decision: 'made', value };
        }
        if (standing !== mine) return { decision: 'claimed-elsewhere', value };
        return { decision: 'create', token, value };
      });
    },

    async renewCreation(kind: RefKind, key: string, claim: CreationClaim, now: number): Promise<boolean> {
      const value = JSON.stringify({ owner: claim.owner, token: claim.token } satisfies CreationClaim);
      return renewCreationClaim(db, creationKey(kind, key), value, now);
    },

    async finishCreation<K extends RefKind>(
      kind: K,
      key: string,
      token: string,
      value: RefKinds[K] | undefined,
      now: number,
      options: { ifHeld?: boolean } = {},
    ): Promise<boolean> {
      const claimKey = creationKey(kind, key);
      return inTransaction(db, async (trx) => {
        const standing = await selectRef(trx, CREATION_CLAIM, claimKey);
        const held = standing !== undefined && parseCreationClaim(claimKey, standing).token === token;
        if (value !== undefined && (held || !options.ifHeld))
          await upsertRef(trx, kind, key, JSON.stringify(value), now);
        if (held) await deleteCreationClaim(trx, claimKey, standing);
        return held;
      });
    },
  };
}

function creationKey(kind: string, key: string): string {
  return `${key}#${kind}`;
}
