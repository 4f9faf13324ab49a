/** `InboxStore` over Kysely: the webhook deliveries table. */
import type { DatabaseKind, Db } from './database.ts';
import type { Delivery, InboxStore, NewDelivery } from './inbox-store.ts';
import { inTransaction } from './in-transaction.ts';
import { pruneDeliveries } from './queries/retention.ts';
import {
  claimDelivery,
  finishDelivery,
  insertDelivery,
  postponeDelivery,
  releaseDeliveryClaims,
  selectDelivery,
  type DeliveryRow,
} from './queries/webhook-deliveries.ts';

export function makeInboxStore(db: Db, kind: DatabaseKind): InboxStore {
  const recordDeliveries = async (deliveries: NewDelivery[]): Promise<boolean[]> => {
    if (deliveries.length === 0) return [];
    return inTransaction(db, async (trx) => {
      const results: boolean[] = [];
      for (const d of deliveries) {
        results.push(
          await insertDelivery(trx, {
            id: d.id,
            event: d.event,
            payload: d.payload,
            received_at: d.receivedAt,
            ...(d.done !== undefined && { done: d.done }),
          }),
        );
      }
      return results;
    });
  };
  return {
    async recordDelivery(delivery: NewDelivery): Promise<boolean> {
      const [isNew] = await recordDeliveries([delivery]);
      return isNew ?? false;
    },

    recordDeliveries,

    async claimDelivery(owner: string, now: number, leaseMs: number): Promise<Delivery | undefined> {
      const row = await inTransaction(db, (trx) => claimDelivery(trx, kind, owner, now, now + leaseMs));
      return row && toDelivery(row);
    },

    async finishDelivery(id: string, status: 'done' | 'failed', note: string | undefined, now: number): Promise<void> {
      await finishDelivery(db, id, status, note, now);
    },

    async releaseDeliveryClaims(): Promise<number> {
      return releaseDeliveryClaims(db);
    },

    async postponeDelivery(id: string, note: string, retryAt: number): Promise<void> {
      await postponeDelivery(db, id, note, retryAt);
    },

    async getDelivery(id: string): Promise<Delivery | undefined> {
      const row = await selectDelivery(db, id);
      return row && toDelivery(row);
    },

    async pruneDeliveries(payloadsBefore: number, idsBefore: number) {
      return inTransaction(db, (trx) => pruneDeliveries(trx, payloadsBefore, idsBefore));
    },
  };
}

function toDelivery(row: DeliveryRow): Delivery {
  return {
    id: row.id,
    event: row.event,
    payload: row.payload,
    receivedAt: Number(row.received_at),
    status: row.status as Delivery['status'],
    attempts: row.attempts,
    ...(row.note !== null && { note: row.note }),
  };
}
