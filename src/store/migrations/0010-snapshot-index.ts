/**
 * The engine's step loads a pipeline's running executions in the order of
 * their numbers. On (pipeline_id, status) alone SQLite preferred the
 * (pipeline_id, seq) index that gives that order, and walked every
 * execution the pipeline ever had; (pipeline_id, status, seq) gives the
 * running ones already in order. It replaces the index it extends.
 */
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

export function snapshotIndexMigration(): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema
        .createIndex('executions_pipeline_status_seq')
        .on('executions')
        .columns(['pipeline_id', 'status', 'seq'])
        .execute();
      await db.schema.dropIndex('executions_pipeline_status').execute();
    },
    async down(db: AnyDb) {
      await db.schema
        .createIndex('executions_pipeline_status')
        .on('executions')
        .columns(['pipeline_id', 'status'])
        .execute();
      await db.schema.dropIndex('executions_pipeline_status_seq').execute();
    },
  };
}
