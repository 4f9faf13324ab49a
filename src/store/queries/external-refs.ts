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
