/**
 * Artifacts and downloaded sources in PostgreSQL, so replicas with data
 * directories of their own can deploy what another built (PRODUCT R2).
 * Content-addressed: a blob is keyed by its sha256, its bytes are rows of
 * up to 1 MiB keyed by digest and index. Plain `bytea` rows rather than
 * large objects: they are written, read, deleted, backed up and replicated
 * like every other row, need no `lo_unlink` (or vacuumlo) to be freed, and
 * are read one chunk per query, so neither side holds a whole artifact.
 * Their storage is EXTERNAL: tarballs are compressed already, and TOAST
 * would try (and fail) to compress every chunk again.
 *
 * Only on PostgreSQL: the embedded database keeps artifacts as files in its
 * data directory, which belongs to one process anyway (R1).
 */
import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { DatabaseKind } from '../database.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

export function artifactBlobsMigration(kind: DatabaseKind): Migration {
  return {
    async up(db: AnyDb) {
      if (kind !== 'postgres') return;
      await db.schema
        .createTable('artifact_blobs')
        .addColumn('sha256', 'text', (c) => c.primaryKey())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('chunks', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('artifact_blob_chunks')
        .addColumn('sha256', 'text', (c) => c.notNull().references('artifact_blobs.sha256').onDelete('cascade'))
        .addColumn('idx', 'integer', (c) => c.notNull())
        .addColumn('data', 'bytea', (c) => c.notNull())
        .addPrimaryKeyConstraint('artifact_blob_chunks_pk', ['sha256', 'idx'])
        .execute();
      await sql`ALTER TABLE artifact_blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL`.execute(db);
      await db.schema.createIndex('artifact_blobs_created').on('artifact_blobs').columns(['created_at']).execute();
    },
    async down(db: AnyDb) {
      if (kind !== 'postgres') return;
      await db.schema.dropTable('artifact_blob_chunks').execute();
      await db.schema.dropTable('artifact_blobs').execute();
    },
  };
}
