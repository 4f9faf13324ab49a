/**
 * The durable store: one interface, two databases (SQLite in the data
 * directory by default, PostgreSQL when a database URL is given). The engine
 * is pure; everything it decides reaches the disk through `updatePipeline`.
 */
import type { StoreMetrics } from './queries/metrics.ts';
import type { PipelineDefinition } from '../pipeline/definition.ts';
import type { Command, ExecutionState, PipelineSnapshot, Revision, StateChange } from '../pipeline/snapshot.ts';
import type { ActionStatus, ExecutionStatus, StageStatus } from '../pipeline/states.ts';
import { SluiceError } from '../sluice-error.ts';

/** What the engine returns for one step: the new state, what changed, what to do. */
export interface EngineStep {
  snapshot: PipelineSnapshot;
  changes: StateChange[];
  commands: Command[];
}

export interface NewExecution {
  pipelineId: string;
  revision: Revision;
  definition: PipelineDefinition;
  /** Who or what started it: `push`, `cli:alice`, `rerun of #3 by alice`. */
  trigger: string;
  /** Opaque to the store: where the source for builds comes from. */
  source?: string;
  /** The execution this one re-runs. */
  rerunOf?: string;
  /** What started it (e.g. `github:<delivery id>`); one execution per origin. */
  origin?: string;
  /** Artifacts it starts with, made by an earlier execution (a rollback deploys one again). */
  artifacts?: Array<Omit<ArtifactRecord, 'executionId' | 'createdAt'>>;
}

export interface ActionRef {
  executionId: string;
  stage: string;
  action: string;
  attempt: number;
}

export interface ExecutionSummary {
  id: string;
  pipelineId: string;
  repo: string;
  seq: number;
  status: ExecutionStatus;
  reason?: string;
  revision: Revision;
  trigger: string;
  source?: string;
  rerunOf?: string;
  origin?: string;
  createdAt: number;
  updatedAt: number;
  definition: PipelineDefinition;
  stages: StageSummary[];
}

export interface StageSummary {
  name: string;
  status: StageStatus;
  attempt: number;
  reason?: string;
  actions: ActionSummary[];
}

export interface ActionSummary {
  name: string;
  status: ActionStatus;
  attempt: number;
  reason?: string;
  startedAt?: number;
  finishedAt?: number;
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

export interface HistoryEntry extends StateChange {
  at: number;
  actor: string;
}

export interface LogLine {
  stream: 'stdout' | 'stderr' | 'sluice';
  text: string;
  at: number;
}

/** A log line with its number in the store, which orders every line and only grows. */
export interface NumberedLogLine extends LogLine {
  seq: number;
}

export interface ArtifactRecord {
  executionId: string;
  name: string;
  sha256: string;
  size: number;
  stage: string;
  action: string;
  createdAt: number;
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';

  /** The pipeline of a repository's pipeline file, created on first use. Returns its id. */
  ensurePipeline(repo: string, file: string): Promise<string>;

  /** A new execution with every stage and action `pending`, and the next `seq`. */
  createExecution(input: NewExecution, actor: string, now: number): Promise<ExecutionState>;

  /**
   * Load one pipeline's snapshot (its unfinished executions, plus those in
   * `include`), let `step` decide, and save the result — all in one
   * transaction that excludes any other writer of the same pipeline. Every
   * change is recorded with `now` and `actor`. Returns the step's commands.
   */
  updatePipeline(
    pipelineId: string,
    options: {
      actor: string;
      now: number;
      include?: string[];
      /** Actions the step starts are claimed for this process (R2). */ claim?: { owner: string; until: number };
    },
    step: (snapshot: PipelineSnapshot) => EngineStep,
  ): Promise<Command[]>;

  /** Extends `owner`'s claims on running actions until `until`; returns the refs it no longer holds. */
  renewClaims(owner: string, refs: ActionRef[], until: number): Promise<ActionRef[]>;
  /**
   * Running actions whose holder is gone: its claim ran out before `now`, or
   * it was never claimed and has not moved since `staleBefore`.
   */
  listExpiredClaims(
    now: number,
    staleBefore: number,
  ): Promise<Array<ActionRef & { pipelineId: string; owner: string | null }>>;

  /** Newest first. */
  listExecutions(options?: { pipelineId?: string; limit?: number }): Promise<ExecutionSummary[]>;
  /** By id, or by `seq` within a pipeline (the newest pipeline with that seq if none is given). */
  getExecution(idOrSeq: string | number, pipelineId?: string): Promise<ExecutionSummary | undefined>;
  /** Every recorded state change of an execution, oldest first (PRODUCT P7). */
  listHistory(executionId: string): Promise<HistoryEntry[]>;
  /** Pipelines that have an action recorded as `running` (for crash recovery). */
  listPipelinesWithRunningActions(): Promise<string[]>;
  /** Pipelines with an approval gate open in a running execution (for expiry). */
  listPipelinesAwaitingApproval(): Promise<string[]>;
  /** Every pipeline Sluice knows, or those of one repository. */
  listPipelines(repo?: string): Promise<PipelineRecord[]>;

  appendLog(ref: ActionRef, lines: LogLine[]): Promise<void>;
  readLog(ref: ActionRef): Promise<LogLine[]>;
  /**
   * At most `limit` lines appended after the line numbered `afterSeq` (0:
   * from the start), by the index: what a reader that has the rest asks for.
   */
  readLogAfter(ref: ActionRef, afterSeq: number, limit: number): Promise<NumberedLogLine[]>;
  /** The newest lines whose text, a newline each, fills `bytes` of UTF-8 (the last may overflow it): a log's tail. */
  readLogTail(ref: ActionRef, bytes: number): Promise<LogLine[]>;

  recordArtifact(artifact: ArtifactRecord): Promise<void>;
  findArtifact(executionId: string, name: string): Promise<ArtifactRecord | undefined>;

  /**
   * Take a named lock (e.g. `environment:production`) with a lease of
   * `ttlMs` (null: until released, for locks taken by hand). The same owner
   * may take it again. Refused while someone else's lease runs.
   */
  acquireLock(input: {
    name: string;
    owner: string;
    reason: string;
    ttlMs: number | null;
    now: number;
  }): Promise<{ ok: true; lock: LockState } | { ok: false; held: LockState }>;
  /** Extend a lease; false if the token no longer holds the lock (it expired and was taken). */
  renewLock(name: string, token: number, ttlMs: number, now: number): Promise<boolean>;
  /** Release by token (the holder) or by owner (a person unlocking by hand); true if it was held. */
  releaseLock(name: string, holder: { token?: number; owner?: string }, now: number): Promise<boolean>;
  /** The lock's holder, if anyone holds it now. */
  findLock(name: string, now: number): Promise<LockState | undefined>;
  /**
   * Release every lease (locks with an expiry; not those taken by hand) and
   * return them: after a crash, when this process alone uses the store, their
   * holders are known to be dead.
   */
  releaseLeases(now: number): Promise<LockState[]>;

  /** Counts for the operator's metrics, read now (every replica sees the same). */
  readMetrics(): Promise<StoreMetrics>;

  /** Stores a verified webhook unless its delivery id is known; true when it was new (PRODUCT G1). */
  recordDelivery(delivery: NewDelivery): Promise<boolean>;
  /** Stores several in one transaction (one commit for many webhooks); for each, whether it was new. */
  recordDeliveries(deliveries: NewDelivery[]): Promise<boolean[]>;
  /** The oldest delivery waiting to be processed (or whose processor's lease ran out), claimed for `owner`. */
  claimDelivery(owner: string, now: number, leaseMs: number): Promise<Delivery | undefined>;
  finishDelivery(id: string, status: 'done' | 'failed', note: string | undefined, now: number): Promise<void>;
  /** After a crash, alone on the store: the deliveries being handled by the dead process may be taken again at once. */
  releaseDeliveryClaims(): Promise<number>;
  /** Lets the delivery be claimed again from `retryAt` on, keeping why it failed. */
  postponeDelivery(id: string, note: string, retryAt: number): Promise<void>;
  getDelivery(id: string): Promise<Delivery | undefined>;
  /** The execution started by `origin`, if any. */
  findExecutionByOrigin(origin: string): Promise<ExecutionSummary | undefined>;

  /** JSON values by kind and key: ids Sluice keeps of what it made elsewhere (check runs, Deployments). */
  getRef<T>(kind: string, key: string): Promise<T | undefined>;
  putRef(kind: string, key: string, value: unknown, now: number): Promise<void>;
  deleteRef(kind: string, key: string): Promise<void>;
  /** Every ref of `kind` whose key starts with `prefix`. */
  listRefs<T>(kind: string, prefix: string): Promise<Array<{ key: string; value: T }>>;

  /** Ids of executions no longer running that have not changed since `before`, oldest first (for pruning). */
  listFinishedExecutions(before: number): Promise<string[]>;
  /** Deletes executions (not running ones) with their logs, history and artifact records; returns how many went. */
  deleteExecutions(ids: string[]): Promise<number>;
  /** Every artifact record's digest, with the status of its execution and when that last changed. */
  listArtifactUses(): Promise<ArtifactUse[]>;
  /** Every execution's source reference, with its status and when that last changed. */
  listSourceUses(): Promise<SourceUse[]>;
  /** Empties payloads of deliveries handled before `payloadsBefore`; deletes those handled before `idsBefore`. */
  pruneDeliveries(payloadsBefore: number, idsBefore: number): Promise<{ payloads: number; deliveries: number }>;

  close(): Promise<void>;
}

export interface ArtifactUse {
  executionId: string;
  sha256: string;
  status: ExecutionStatus;
  updatedAt: number;
}

export interface SourceUse {
  executionId: string;
  /** As kept in the execution (see source-ref.ts). */
  source: string;
  status: ExecutionStatus;
  updatedAt: number;
}

export interface PipelineRecord {
  id: string;
  repo: string;
  /** The pipeline file, e.g. `.github/sluice.yml`. */
  file: string;
}

export interface NewDelivery {
  id: string;
  event: string;
  payload: string;
  receivedAt: number;
  /** Stored as handled already, with this note: an event Sluice does not act on. */
  done?: string;
}

export interface Delivery {
  id: string;
  event: string;
  payload: string;
  receivedAt: number;
  status: 'received' | 'processing' | 'done' | 'failed';
  attempts: number;
  note?: string;
}

export interface LockState {
  name: string;
  owner: string;
  reason: string;
  /** Rises with every acquisition: proof of ownership for writes with effects. */
  token: number;
  acquiredAt: number;
  /** Null: held until released. */
  expiresAt: number | null;
}

export class StoreError extends SluiceError<
  'DATA_DIR_LOCKED' | 'DATA_DIR_UNUSABLE' | 'DATABASE_UNREACHABLE' | 'MIGRATION_FAILED' | 'NOT_FOUND'
> {}
