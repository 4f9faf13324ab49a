/**
 * Indexes for pruning (the server config's `retention`): finished
 * executions by when they last changed, handled deliveries by when they
 * ended, and artifacts by digest (a file is kept while any execution still
 * uses its digest). Deleting an execution's rows goes through the indexes
 * that start with `execution_id`, which every table of it has already.
 */
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

export function retentionMigration(): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema
        .createIndex('executions_status_updated')
        .on('executions')
        .columns(['status', 'updated_at'])
        .execute();
      await db.schema
        .createIndex('webhook_deliveries_finished')
        .on('webhook_deliveries')
        .columns(['status', 'finished_at'])
        .execute();
      await db.schema.createIndex('artifacts_sha256').on('artifacts').columns(['sha256']).execute();
    },
    async down(db: AnyDb) {
      await db.schema.dropIndex('artifacts_sha256').execute();
      await db.schema.dropIndex('webhook_deliveries_finished').execute();
      await db.schema.dropIndex('executions_status_updated').execute();
    },
  };
}
