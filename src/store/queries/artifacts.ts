/** Queries on `artifacts`: which file an execution's named artifact is (by sha256). */
import type { Selectable } from 'kysely';
import type { ArtifactsTable, Db } from '../database.ts';

export type ArtifactRow = Selectable<ArtifactsTable>;

/** Records an artifact; a retried action that produces it again replaces the earlier record. */
export async function saveArtifact(db: Db, row: ArtifactRow): Promise<void> {
  await db
    .insertInto('artifacts')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['execution_id', 'name']).doUpdateSet({
        sha256: row.sha256,
        size: row.size,
        stage: row.stage,
        action: row.action,
        created_at: row.created_at,
      }),
    )
    .execute();
}

/** An execution's artifact by name, or undefined. */
export async function selectArtifact(db: Db, executionId: string, name: string): Promise<ArtifactRow | undefined> {
  return db
    .selectFrom('artifacts')
    .selectAll()
    .where('execution_id', '=', executionId)
    .where('name', '=', name)
    .executeTakeFirst();
}
