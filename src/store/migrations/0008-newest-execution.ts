/**
 * Each pipeline keeps the id of its newest execution (`newest_execution_id`),
 * so `/sluice status` reads every pipeline's newest in one query instead of
 * one listing per pipeline. Filled here for the executions a store already
 * holds; from then on the store keeps it in the transaction that creates or
 * deletes an execution.
 */
import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

export function newestExecutionMigration(): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema.alterTable('pipelines').addColumn('newest_execution_id', 'text').execute();
      // The order `listExecutions` gives: by creation time, then seq, then id.
      await sql`UPDATE pipelines SET newest_execution_id = (
        SELECT e.id FROM executions e WHERE e.pipeline_id = pipelines.id
        ORDER BY e.created_at DESC, e.seq DESC, e.id LIMIT 1)`.execute(db);
    },
    async down(db: AnyDb) {
      await db.schema.alterTable('pipelines').dropColumn('newest_execution_id').execute();
    },
  };
}
