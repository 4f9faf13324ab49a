/** What the store keeps of artifacts: which execution made which, by name and digest (the bytes live elsewhere). */
import type { ExecutionStatus } from '../pipeline/states.ts';

export interface ArtifactRecord {
  executionId: string;
  name: string;
  sha256: string;
  size: number;
  stage: string;
  action: string;
  createdAt: number;
}

export interface ArtifactUse {
  executionId: string;
  sha256: string;
  status: ExecutionStatus;
  updatedAt: number;
}

export interface ArtifactRecordStore {
  recordArtifact(artifact: ArtifactRecord): Promise<void>;
  findArtifact(executionId: string, name: string): Promise<ArtifactRecord | undefined>;
  /** Every artifact record's digest, with the status of its execution and when that last changed. */
  listArtifactUses(): Promise<ArtifactUse[]>;
}
