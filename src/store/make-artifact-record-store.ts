/** `ArtifactRecordStore` over Kysely: the artifacts table. */
import type { ExecutionStatus } from '../pipeline/states.ts';
import type { ArtifactRecord, ArtifactRecordStore, ArtifactUse } from './artifact-record-store.ts';
import type { Db } from './database.ts';
import { saveArtifact, selectArtifact } from './queries/artifacts.ts';
import { selectArtifactUses } from './queries/retention.ts';

export function makeArtifactRecordStore(db: Db): ArtifactRecordStore {
  return {
    async recordArtifact(artifact: ArtifactRecord): Promise<void> {
      await saveArtifact(db, {
        execution_id: artifact.executionId,
        name: artifact.name,
        sha256: artifact.sha256,
        size: artifact.size,
        stage: artifact.stage,
        action: artifact.action,
        created_at: artifact.createdAt,
      });
    },

    async findArtifact(executionId: string, name: string): Promise<ArtifactRecord | undefined> {
      const row = await selectArtifact(db, executionId, name);
      if (!row) return undefined;
      return {
        executionId: row.execution_id,
        name: row.name,
        sha256: row.sha256,
        size: row.size,
        stage: row.stage,
        action: row.action,
        createdAt: row.created_at,
      };
    },

    async listArtifactUses(): Promise<ArtifactUse[]> {
      const rows = await selectArtifactUses(db);
      return rows.map((r) => ({
        executionId: r.execution_id,
        sha256: r.sha256,
        status: r.status as ExecutionStatus,
        updatedAt: Number(r.updated_at),
      }));
    },
  };
}
