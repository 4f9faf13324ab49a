/**
 * Executions and their history: what the engine decides reaches the disk
 * through `updatePipeline`; everything else here reads what it wrote, or
 * prunes what retention lets go.
 */
import type { PipelineDefinition } from '../pipeline/definition.ts';
import type { Command, ExecutionState, PipelineSnapshot, Revision, StateChange } from '../pipeline/snapshot.ts';
import type { ActionStatus, ExecutionStatus, StageStatus } from '../pipeline/states.ts';
import type { ArtifactRecord } from './artifact-record-store.ts';
import type { RefStore } from './ref-store.ts';
import type { StoreMetrics } from './queries/metrics.ts';

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
  /**
   * Asked in the transaction that creates it, once the pipeline's creations
   * are serialized (PRODUCT P11): a reason means something newer came first
   * (a later push of its branch), and it is created already superseded, with
   * that reason, so it never takes a stage from the newer one.
   */
  supersededIf?: (refs: RefStore) => Promise<string | undefined>;
}

/** One attempt of one action of an execution: what logs, claims and live commands belong to. */
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
  /**
   * Raised by every change of its state, stage or action statuses: of two
   * reads of one execution, the one with the higher version is the newer.
   */
  version: number;
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

export interface HistoryEntry extends StateChange {
  at: number;
  actor: string;
}

export interface PipelineRecord {
  id: string;
  repo: string;
  /** The pipeline file, e.g. `.github/sluice.yml`. */
  file: string;
}

export interface SourceUse {
  executionId: string;
  /** As kept in the execution (see source-ref.ts). */
  source: string;
  status: ExecutionStatus;
  updatedAt: number;
}

export interface ExecutionStore {
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

  /** Newest first. */
  listExecutions(options?: { pipelineId?: string; limit?: number }): Promise<ExecutionSummary[]>;
  /**
   * The newest execution (as `listExecutions` of its pipeline gives first,
   * passing over those superseded while one is not: an older push delivered
   * late is created superseded, and the pipeline does not stand at it) of
   * each of the first `pipelines` pipelines in `listPipelines`' order,
   * skipping those with none. One query however long the history.
   *
   * That query reads only each one's id and version; a summary is built
   * (its rows and runs read on one snapshot) only for an execution whose
   * version differs from the one kept from an earlier call, so a screen
   * read again costs what changed. The summaries are shared between calls
   * and frozen: a reader copies one to change it.
   */
  listNewestExecutions(options: { pipelines: number }): Promise<ExecutionSummary[]>;
  /** The newest execution of one pipeline, as `listNewestExecutions` gives it. */
  getNewestExecution(pipelineId: string): Promise<ExecutionSummary | undefined>;
  /** By id, or by `seq` within a pipeline (the newest pipeline with that seq if none is given). */
  getExecution(idOrSeq: string | number, pipelineId?: string): Promise<ExecutionSummary | undefined>;
  /** The execution started by `origin`, if any. */
  findExecutionByOrigin(origin: string): Promise<ExecutionSummary | undefined>;
  /** Every recorded state change of an execution, oldest first (PRODUCT P7). */
  listHistory(executionId: string): Promise<HistoryEntry[]>;
  /** Pipelines that have an action recorded as `running` (for crash recovery). */
  listPipelinesWithRunningActions(): Promise<string[]>;
  /** Pipelines with an approval gate open in a running execution (for expiry). */
  listPipelinesAwaitingApproval(): Promise<string[]>;
  /** Every pipeline Sluice knows, or those of one repository. */
  listPipelines(repo?: string): Promise<PipelineRecord[]>;

  /** Counts for the operator's metrics, read now (every replica sees the same). */
  readMetrics(): Promise<StoreMetrics>;

  /** Ids of executions no longer running that have not changed since `before`, oldest first (for pruning). */
  listFinishedExecutions(before: number): Promise<string[]>;
  /**
   * Deletes executions (not running ones) with their logs, history, artifact records and refs; returns how many went.
   */
  deleteExecutions(ids: string[]): Promise<number>;
  /** Every execution's source reference, with its status and when that last changed. */
  listSourceUses(): Promise<SourceUse[]>;
}
