/**
 * Brings a database to the newest schema with Kysely's Migrator. The
 * migrations are listed here, not read from a folder, so they load the same
 * way under Node's type stripping as anywhere else.
 */
import { Migrator, type Migration } from 'kysely/migration';
import type { DatabaseKind, Db } from './database.ts';
import { initialMigration } from './migrations/0001-initial.ts';
import { locksMigration } from './migrations/0002-locks.ts';
import { inboxMigration } from './migrations/0003-inbox.ts';
import { claimsMigration } from './migrations/0004-claims.ts';
import { retentionMigration } from './migrations/0005-retention.ts';
import { artifactBlobsMigration } from './migrations/0006-artifact-blobs.ts';
import { historyIndexesMigration } from './migrations/0007-history-indexes.ts';
import { newestExecutionMigration } from './migrations/0008-newest-execution.ts';
import { executionVersionsMigration } from './migrations/0009-execution-versions.ts';
import { snapshotIndexMigration } from './migrations/0010-snapshot-index.ts';
import { StoreError } from './store.ts';
import { errorMessage } from '../sluice-error.ts';

/** Every migration by name; names sort in the order they run. */
function listMigrations(kind: DatabaseKind): Record<string, Migration> {
  return {
    '0001-initial': initialMigration(kind),
    '0002-locks': locksMigration(),
    '0003-inbox': inboxMigration(),
    '0004-claims': claimsMigration(),
    '0005-retention': retentionMigration(),
    '0006-artifact-blobs': artifactBlobsMigration(kind),
    '0007-history-indexes': historyIndexesMigration(),
    '0008-newest-execution': newestExecutionMigration(),
    '0009-execution-versions': executionVersionsMigration(),
    '0010-snapshot-index': snapshotIndexMigration(),
  };
}

/** Runs every migration not yet applied; throws `MIGRATION_FAILED` naming the one that failed. */
export async function migrateToLatest(db: Db, kind: DatabaseKind, where: string): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => listMigrations(kind) },
    // Our own names, so the tables are recognisable in a database shared with other software.
    migrationTableName: 'sluice_migration',
    migrationLockTableName: 'sluice_migration_lock',
  });
  // Up to date, nothing is written (the migrator's own lock is a write): a database on a full disk still opens.
  const known = await migrator.getMigrations().catch(() => undefined);
  if (known?.every((migration) => migration.executedAt !== undefined)) return;
  const { error, results } = await migrator.migrateToLatest();
  if (error === undefined) return;
  const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
  const why = errorMessage(error);
  throw new StoreError(
    'MIGRATION_FAILED',
    `Could not bring the database at ${where} to the current schema: migration ${failed} failed: ${why}. ` +
      'Nothing of that migration was applied; fix the cause (or restore a backup) and start again.',
    { cause: error },
  );
}
