/**
 * The first schema. Portable on purpose: text, integer and bigint columns
 * only, JSON kept as text, times as epoch milliseconds. The one difference
 * between the databases is how an auto-numbered key is spelled.
 */
import type { ColumnDefinitionBuilder, Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { DatabaseKind } from '../database.ts';

// `any`: a migration sees the schema as it was then, not as `Database` says now.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

/** Migration 0001 for the given database. */
export function initialMigration(kind: DatabaseKind): Migration {
  const identity = (c: ColumnDefinitionBuilder) =>
    kind === 'postgres' ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement();
  const identityType = kind === 'postgres' ? 'bigint' : 'integer';

  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('pipelines')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('repo', 'text', (c) => c.notNull())
        .addColumn('file', 'text', (c) => c.notNull())
        .addColumn('last_seq', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('pipelines_repo_file', ['repo', 'file'])
        .execute();

      await db.schema
        .createTable('executions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('pipeline_id', 'text', (c) => c.notNull().references('pipelines.id'))
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('revision', 'text', (c) => c.notNull())
        .addColumn('definition', 'text', (c) => c.notNull())
        .addColumn('trigger', 'text', (c) => c.notNull())
        .addColumn('source', 'text')
        .addColumn('rerun_of', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('executions_pipeline_seq', ['pipeline_id', 'seq'])
        .execute();
      // The snapshot loads a pipeline's running executions; listings go newest first.
      await db.schema
        .createIndex('executions_pipeline_status')
        .on('executions')
        .columns(['pipeline_id', 'status'])
        .execute();
      await db.schema.createIndex('executions_created').on('executions').columns(['created_at']).execute();
      await db.schema.createIndex('executions_seq').on('executions').columns(['seq']).execute();

      await db.schema
        .createTable('stage_runs')
        .addColumn('execution_id', 'text', (c) => c.notNull().references('executions.id'))
        .addColumn('stage', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('waiting_since', 'bigint')
        .addColumn('reason', 'text')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('stage_runs_pk', ['execution_id', 'stage'])
        .execute();

      await db.schema
        .createTable('action_runs')
        .addColumn('execution_id', 'text', (c) => c.notNull())
        .addColumn('stage', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('started_at', 'bigint')
        .addColumn('finished_at', 'bigint')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('action_runs_pk', ['execution_id', 'stage', 'action'])
        .addForeignKeyConstraint('action_runs_stage', ['execution_id', 'stage'], 'stage_runs', [
          'execution_id',
          'stage',
        ])
        .execute();
      // Crash recovery looks for running actions across all pipelines.
      await db.schema.createIndex('action_runs_status').on('action_runs').columns(['status']).execute();

      await db.schema
        .createTable('state_changes')
        .addColumn('id', identityType, identity)
        .addColumn('execution_id', 'text', (c) => c.notNull().references('executions.id'))
        .addColumn('entity', 'text', (c) => c.notNull())
        .addColumn('stage', 'text')
        .addColumn('action', 'text')
        .addColumn('from_status', 'text')
        .addColumn('to_status', 'text', (c) => c.notNull())
        .addColumn('attempt', 'integer')
        .addColumn('reason', 'text')
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('state_changes_execution')
        .on('state_changes')
        .columns(['execution_id', 'id'])
        .execute();

      await db.schema
        .createTable('transitions')
        .addColumn('pipeline_id', 'text', (c) => c.notNull().references('pipelines.id'))
        .addColumn('stage', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('transitions_pk', ['pipeline_id', 'stage'])
        .execute();

      await db.schema
        .createTable('transition_changes')
        .addColumn('id', identityType, identity)
        .addColumn('pipeline_id', 'text', (c) => c.notNull().references('pipelines.id'))
        .addColumn('stage', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('transition_changes_pipeline')
        .on('transition_changes')
        .columns(['pipeline_id', 'id'])
        .execute();

      await db.schema
        .createTable('log_lines')
        .addColumn('seq', identityType, identity)
        .addColumn('execution_id', 'text', (c) => c.notNull().references('executions.id'))
        .addColumn('stage', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('stream', 'text', (c) => c.notNull())
        .addColumn('text', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('log_lines_action')
        .on('log_lines')
        .columns(['execution_id', 'stage', 'action', 'attempt', 'seq'])
        .execute();

      await db.schema
        .createTable('artifacts')
        .addColumn('execution_id', 'text', (c) => c.notNull().references('executions.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('stage', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('artifacts_pk', ['execution_id', 'name'])
        .execute();
    },

    async down(db: AnyDb) {
      for (const table of [
        'artifacts',
        'log_lines',
        'transition_changes',
        'transitions',
        'state_changes',
        'action_runs',
        'stage_runs',
        'executions',
        'pipelines',
      ]) {
        await db.schema.dropTable(table).execute();
      }
    },
  };
}
