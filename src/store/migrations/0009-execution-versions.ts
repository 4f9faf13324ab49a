/**
 * A version per execution, raised by every step that changes its state: a
 * report made from an older read of the execution (another replica's, or
 * one that waited) is told apart from a newer one, and never replaces it.
 */
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

export function executionVersionsMigration(): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema
        .alterTable('executions')
        .addColumn('version', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    },
    async down(db: AnyDb) {
      await db.schema.alterTable('executions').dropColumn('version').execute();
    },
  };
}
