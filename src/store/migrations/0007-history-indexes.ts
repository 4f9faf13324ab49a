/**
 * Indexes for a long history: the newest executions, of all pipelines
 * (`sluice status`) or of one (`/sluice status`, the Slack cards), are read
 * from the end of an index in the order they are listed, instead of sorting
 * every execution the store ever kept.
 */
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

export function historyIndexesMigration(): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema.createIndex('executions_newest').on('executions').columns(['created_at', 'seq']).execute();
      await db.schema
        .createIndex('executions_pipeline_newest')
        .on('executions')
        .columns(['pipeline_id', 'created_at', 'seq'])
        .execute();
    },
    async down(db: AnyDb) {
      await db.schema.dropIndex('executions_pipeline_newest').execute();
      await db.schema.dropIndex('executions_newest').execute();
    },
  };
}
