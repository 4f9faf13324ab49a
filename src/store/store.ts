/**
 * The durable store: two databases (SQLite in the data directory by default,
 * PostgreSQL when a database URL is given), six concerns, each its own
 * interface, so a caller names what it uses:
 *
 * - `ExecutionStore`: executions, their history, pipelines and retention;
 * - `ClaimStore`: claims on running actions and named locks;
 * - `InboxStore`: the webhook inbox;
 * - `LogStore`: action logs;
 * - `ArtifactRecordStore`: which execution made which artifact;
 * - `RefStore`: what Sluice made elsewhere, by kind.
 *
 * One object holds them all on one database handle: `transaction` gives
 * them all on one transaction, which commits when `work` resolves.
 */
import type { ArtifactBlobs } from './artifact-blobs.ts';
import type { ArtifactRecordStore } from './artifact-record-store.ts';
import type { ClaimStore } from './claim-store.ts';
import type { ExecutionStore, ExecutionSummary, ActionSummary, StageSummary } from './execution-store.ts';
import type { InboxStore } from './inbox-store.ts';
import type { LogStore } from './log-store.ts';
import type { RefStore } from './ref-store.ts';
import { SluiceError, type StoreErrorCode } from '../sluice-error.ts';

export type * from './artifact-record-store.ts';
export type * from './claim-store.ts';
export type * from './execution-store.ts';
export type * from './inbox-store.ts';
export type * from './log-store.ts';
export type * from './ref-store.ts';

/** Every concern of the store, on one database handle or one transaction. */
export type StoreConcerns = ExecutionStore & ClaimStore & InboxStore & LogStore & ArtifactRecordStore & RefStore;

/** The whole store, for the composition root that opens and closes it. */
export interface Store extends StoreConcerns {
  readonly kind: 'sqlite' | 'postgres';
  /** Artifacts and sources in the database (PostgreSQL); absent when they are files in the data directory (SQLite). */
  readonly blobs?: ArtifactBlobs;
  /** Runs `work` on one transaction over every concern: all it writes commits, or none if it throws. */
  transaction<T>(work: (store: StoreConcerns) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** The stage of that name in an execution's summary, if it has one. */
export function findStageSummary(execution: Pick<ExecutionSummary, 'stages'>, name: string): StageSummary | undefined {
  return execution.stages.find((s) => s.name === name);
}

/** The action `action` of stage `stage` in an execution's summary, if it has one. */
export function findActionSummary(
  execution: Pick<ExecutionSummary, 'stages'>,
  stage: string,
  action: string,
): ActionSummary | undefined {
  return findStageSummary(execution, stage)?.actions.find((a) => a.name === action);
}

export class StoreError extends SluiceError<StoreErrorCode> {}
