/**
 * The webhook inbox (PRODUCT G1) and the ids Sluice keeps of things it made
 * elsewhere (check runs, Deployments), so repeated calls are idempotent.
 * `executions.origin` names what started an execution (a webhook delivery),
 * unique, so processing a delivery twice starts it once.
 */
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

export function inboxMigration(): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('webhook_deliveries')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        // received → processing → done | failed; a processing row whose lease ran out is taken again.
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('claimed_by', 'text')
        .addColumn('lease_until', 'bigint')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('note', 'text')
        .addColumn('finished_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('webhook_deliveries_status')
        .on('webhook_deliveries')
        .columns(['status', 'received_at'])
        .execute();

      await db.schema
        .createTable('external_refs')
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('external_refs_pk', ['kind', 'key'])
        .execute();

      await db.schema.alterTable('executions').addColumn('origin', 'text').execute();
      await db.schema.createIndex('executions_origin').unique().on('executions').column('origin').execute();
    },
    async down(db: AnyDb) {
      await db.schema.dropIndex('executions_origin').execute();
      await db.schema.alterTable('executions').dropColumn('origin').execute();
      await db.schema.dropTable('external_refs').execute();
      await db.schema.dropTable('webhook_deliveries').execute();
    },
  };
}
