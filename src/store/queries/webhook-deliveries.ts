/** Queries on `webhook_deliveries`: the durable inbox of GitHub webhooks (PRODUCT G1). */
import type { Selectable } from 'kysely';
import type { DatabaseKind, Db, WebhookDeliveriesTable } from '../database.ts';

export type DeliveryRow = Selectable<WebhookDeliveriesTable>;

/**
 * Inserts a delivery unless its id is already there; true when it was new.
 * With `done`, it is stored as handled already, with that note (an event
 * Sluice does not act on needs no handling).
 */
export async function insertDelivery(
  db: Db,
  row: { id: string; event: string; payload: string; received_at: number; done?: string },
): Promise<boolean> {
  const { done, ...values } = row;
  const result = await db
    .insertInto('webhook_deliveries')
    .values({
      ...values,
      status: done === undefined ? 'received' : 'done',
      attempts: 0,
      ...(done !== undefined && { note: done, finished_at: row.received_at }),
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

/**
 * Takes the oldest delivery nobody works on (new, or claimed by a holder
 * whose lease ran out) for `owner` until `leaseUntil`. Run in a transaction.
 */
export async function claimDelivery(
  db: Db,
  kind: DatabaseKind,
  owner: string,
  now: number,
  leaseUntil: number,
): Promise<DeliveryRow | undefined> {
  const query = db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where((eb) =>
      eb.or([eb('status', '=', 'received'), eb.and([eb('status', '=', 'processing'), eb('lease_until', '<', now)])]),
    )
    .orderBy('received_at')
    .orderBy('id')
    .limit(1);
  const row = await (kind === 'postgres' ? query.forUpdate().skipLocked() : query).executeTakeFirst();
  if (!row) return undefined;
  const claimed = { status: 'processing', claimed_by: owner, lease_until: leaseUntil, attempts: row.attempts + 1 };
  await db.updateTable('webhook_deliveries').set(claimed).where('id', '=', row.id).execute();
  return { ...row, ...claimed };
}

/** Records how a claimed delivery ended. */
export async function finishDelivery(
  db: Db,
  id: string,
  status: 'done' | 'failed',
  note: string | undefined,
  now: number,
): Promise<void> {
  await db
    .updateTable('webhook_deliveries')
    .set({ status, note: note ?? null, finished_at: now, lease_until: null })
    .where('id', '=', id)
    .execute();
}

export async function selectDelivery(db: Db, id: string): Promise<DeliveryRow | undefined> {
  return db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Gives a delivery back to be taken again after `retryAt` (a handler failed, perhaps for a while). */
export async function postponeDelivery(db: Db, id: string, note: string, retryAt: number): Promise<void> {
  await db
    .updateTable('webhook_deliveries')
    .set({ status: 'processing', claimed_by: null, lease_until: retryAt, note })
    .where('id', '=', id)
    .execute();
}

/** Lets every delivery a (dead) process was handling be taken again now; postponed ones keep their time. */
export async function releaseDeliveryClaims(db: Db): Promise<number> {
  const result = await db
    .updateTable('webhook_deliveries')
    .set({ lease_until: 0, claimed_by: null })
    .where('status', '=', 'processing')
    .where('claimed_by', 'is not', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
