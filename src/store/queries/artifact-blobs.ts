/**
 * Queries on `artifact_blobs` and `artifact_blob_chunks` (PostgreSQL only,
 * see migration 0006): a blob's record, its chunks one at a time, and the
 * blobs retention lets go.
 */
import { sql } from 'kysely';
import type { Db } from '../database.ts';

export interface ArtifactBlobsTable {
  sha256: string;
  size: number;
  /** How many chunks the blob has, numbered from 0; set once all are written. */
  chunks: number;
  created_at: number;
}

export interface ArtifactBlobChunksTable {
  sha256: string;
  idx: number;
  data: Buffer;
}

type BlobTables = {
  artifact_blobs: ArtifactBlobsTable;
  artifact_blob_chunks: ArtifactBlobChunksTable;
};

const blobs = (db: Db) => db.withTables<BlobTables>();

/** Claims the blob's record; false when a blob of that digest is stored (or being stored) already. */
export async function insertBlob(db: Db, row: ArtifactBlobsTable): Promise<boolean> {
  const inserted = await blobs(db)
    .insertInto('artifact_blobs')
    .values(row)
    .onConflict((oc) => oc.column('sha256').doNothing())
    .returning('sha256')
    .executeTakeFirst();
  return inserted !== undefined;
}

export async function insertChunk(db: Db, row: ArtifactBlobChunksTable): Promise<void> {
  await blobs(db).insertInto('artifact_blob_chunks').values(row).execute();
}

/** Records how many chunks were written and how many bytes they hold. */
export async function finishBlob(db: Db, sha256: string, chunks: number, size: number): Promise<void> {
  await blobs(db).updateTable('artifact_blobs').set({ chunks, size }).where('sha256', '=', sha256).execute();
}

export async function selectBlob(db: Db, sha256: string): Promise<ArtifactBlobsTable | undefined> {
  return blobs(db).selectFrom('artifact_blobs').selectAll().where('sha256', '=', sha256).executeTakeFirst();
}

export async function selectChunk(db: Db, sha256: string, idx: number): Promise<Buffer | undefined> {
  const row = await blobs(db)
    .selectFrom('artifact_blob_chunks')
    .select('data')
    .where('sha256', '=', sha256)
    .where('idx', '=', idx)
    .executeTakeFirst();
  return row?.data;
}

/** Deletes one blob and its chunks (a blob found corrupted, so that the next store of its bytes writes them anew). */
export async function deleteBlob(db: Db, sha256: string): Promise<void> {
  await blobs(db).deleteFrom('artifact_blobs').where('sha256', '=', sha256).execute();
}

/**
 * Deletes the blobs stored before `before` whose digest is not in `keep`
 * and that no running execution uses, as an artifact or as its source, by
 * the time the statement runs: a rollback or re-run that started after
 * `keep` was worked out still finds its bytes. Their chunks go with them.
 */
export async function deleteUnusedBlobs(db: Db, keep: string[], before: number): Promise<string[]> {
  const { rows } = await sql<{ sha256: string }>`
    DELETE FROM artifact_blobs b
    WHERE b.created_at < ${before}
      AND NOT (b.sha256 = ANY(${keep}::text[]))
      AND NOT EXISTS (
        SELECT 1 FROM artifacts a JOIN executions e ON e.id = a.execution_id
        WHERE a.sha256 = b.sha256 AND e.status = 'running')
      AND NOT EXISTS (
        SELECT 1 FROM executions e
        WHERE e.status = 'running' AND e.source IS NOT NULL AND position(b.sha256 IN e.source) > 0)
    RETURNING b.sha256`.execute(db);
  return rows.map((r) => r.sha256);
}
