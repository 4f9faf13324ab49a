/**
 * Claims on running actions (PRODUCT R2): the process that runs an action
 * holds it with a lease it renews; a peer that finds the lease run out
 * knows the holder is gone and marks the action interrupted.
 */
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

export function claimsMigration(): Migration {
  return {
    async up(db: AnyDb) {
      // One column per statement: SQLite adds columns one at a time.
      await db.schema.alterTable('action_runs').addColumn('claimed_by', 'text').execute();
      await db.schema.alterTable('action_runs').addColumn('lease_until', 'bigint').execute();
      await db.schema.createIndex('action_runs_claims').on('action_runs').columns(['status', 'lease_until']).execute();
    },
    async down(db: AnyDb) {
      await db.schema.dropIndex('action_runs_claims').execute();
      await db.schema.alterTable('action_runs').dropColumn('lease_until').execute();
      await db.schema.alterTable('action_runs').dropColumn('claimed_by').execute();
    },
  };
}
