/** Queries on `external_refs`: ids of check runs, Deployments and the like, as JSON by kind and key. */
import type { Db } from '../database.ts';

export async function selectRef(db: Db, kind: string, key: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('external_refs')
    .select('value')
    .where('kind', '=', kind)
    .where('key', '=', key)
    .executeTakeFirst();
  return row?.value;
}

export async function upsertRef(db: Db, kind: string, key: string, value: string, now: number): Promise<void> {
  await db
    .insertInto('external_refs')
    .values({ kind, key, value, updated_at: now })
    .onConflict((oc) => oc.columns(['kind', 'key']).doUpdateSet({ value, updated_at: now }))
    .execute();
}

/** Every ref of a kind whose key starts with `prefix`, by key. */
export async function selectRefsByPrefix(
  db: Db,
  kind: string,
  prefix: string,
): Promise<Array<{ key: string; value: string }>> {
  const rows = await db
    .selectFrom('external_refs')
    .select(['key', 'value'])
    .where('kind', '=', kind)
    .where('key', '>=', prefix)
    .where('key', '<', `${prefix}\uffff`)
    .orderBy('key')
    .execute();
  return rows;
}

export async function deleteRef(db: Db, kind: string, key: string): Promise<void> {
  await db.deleteFrom('external_refs').where('kind', '=', kind).where('key', '=', key).execute();
}

/**
 * The kind of the rows that claim a creation; keyed `<ref key>#<ref kind>`, so they are pruned with their execution.
 */
export const CREATION_CLAIM = 'creating';

/**
 * Inserts the claim `value` on `key` unless another claim is there that was
 * made at `staleBefore` or later (one older is its dead holder's, and taken
 * over). Returns the claim that stands now, as JSON.
 */
export async function upsertCreationClaim(
  db: Db,
  key: string,
  value: string,
  now: number,
  staleBefore: number,
): Promise<string | undefined> {
  await db
    .insertInto('external_refs')
    .values({ kind: CREATION_CLAIM, key, value, updated_at: now })
    .onConflict((oc) =>
      oc
        .columns(['kind', 'key'])
        .doUpdateSet({ value, updated_at: now })
        .where('external_refs.updated_at', '<', staleBefore),
    )
    .execute();
  return selectRef(db, CREATION_CLAIM, key);
}

/** Stamps the claim on `key` with `now` if it is still `value`: its holder is alive. True if it was. */
export async function renewCreationClaim(db: Db, key: string, value: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('external_refs')
    .set({ updated_at: now })
    .where('kind', '=', CREATION_CLAIM)
    .where('key', '=', key)
    .where('value', '=', value)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Drops the claim on `key` if it is still `value` (taken over, it is its new holder's). */
export async function deleteCreationClaim(db: Db, key: string, value: string): Promise<void> {
  await db
    .deleteFrom('external_refs')
    .where('kind', '=', CREATION_CLAIM)
    .where('key', '=', key)
    .where('value', '=', value)
    .execute();
}
