/**
 * Named locks with a lease (PRODUCT S8): one deploy per environment at a
 * time. A holder that dies stops renewing and its lease runs out; a lock
 * taken by hand has no expiry. `token` rises with every acquisition so a
 * holder can prove it still owns the lock (a fencing token).
 */
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

export function locksMigration(): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('locks')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('token', 'bigint', (c) => c.notNull())
        .addColumn('acquired_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('released', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    },
    async down(db: AnyDb) {
      await db.schema.dropTable('locks').execute();
    },
  };
}
