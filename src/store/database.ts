/**
 * The tables as Kysely sees them. One schema for SQLite and PostgreSQL:
 * text ids, JSON in text columns, times as integer epoch milliseconds.
 */
import type { Generated, Kysely } from 'kysely';

export interface PipelinesTable {
  id: string;
  repo: string;
  file: string;
  /** The seq of the newest execution; bumped in place so two creators never share a number. */
  last_seq: number;
  created_at: number;
  /** The id of its newest execution (the first `listExecutions` gives), kept as executions come and go. */
  newest_execution_id?: string | null;
}

export interface ExecutionsTable {
  id: string;
  pipeline_id: string;
  seq: number;
  status: string;
  reason: string | null;
  /** JSON of `Revision`. */
  revision: string;
  /** JSON of the `PipelineDefinition` the execution was started with. */
  definition: string;
  trigger: string;
  source: string | null;
  rerun_of: string | null;
  /** What started it, e.g. `github:<delivery id>`; unique, so a delivery starts one execution. */
  origin?: string | null;
  created_at: number;
  updated_at: number;
  /** Raised by every saved step that changes the execution's state: orders what readers saw of it. */
  version: Generated<number>;
}

export interface StageRunsTable {
  execution_id: string;
  stage: string;
  status: string;
  attempt: number;
  waiting_since: number | null;
  reason: string | null;
  updated_at: number;
}

export interface ActionRunsTable {
  execution_id: string;
  stage: string;
  action: string;
  status: string;
  attempt: number;
  reason: string | null;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
  /** The process running it, while it runs (PRODUCT R2). */
  claimed_by?: string | null;
  /** Until when that process's claim holds; renewed while it runs. */
  lease_until?: number | null;
}

export interface StateChangesTable {
  id: Generated<number>;
  execution_id: string;
  entity: string;
  stage: string | null;
  action: string | null;
  from_status: string | null;
  to_status: string;
  attempt: number | null;
  reason: string | null;
  actor: string;
  at: number;
}

export interface TransitionsTable {
  pipeline_id: string;
  stage: string;
  /** 1 or 0: booleans are not portable between the two databases. */
  enabled: number;
  reason: string | null;
  actor: string;
  at: number;
}

/** Every change of `transitions`, as the row stood after it. */
export interface TransitionChangesTable extends TransitionsTable {
  id: Generated<number>;
}

export interface LogLinesTable {
  /** Increases in append order across the table; orders the lines of an action. */
  seq: Generated<number>;
  execution_id: string;
  stage: string;
  action: string;
  attempt: number;
  stream: string;
  text: string;
  at: number;
}

export interface ArtifactsTable {
  execution_id: string;
  name: string;
  sha256: string;
  size: number;
  stage: string;
  action: string;
  created_at: number;
}

/** Every table of the store. */
export interface Database {
  pipelines: PipelinesTable;
  executions: ExecutionsTable;
  stage_runs: StageRunsTable;
  action_runs: ActionRunsTable;
  state_changes: StateChangesTable;
  transitions: TransitionsTable;
  transition_changes: TransitionChangesTable;
  log_lines: LogLinesTable;
  artifacts: ArtifactsTable;
  locks: LocksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  external_refs: ExternalRefsTable;
}

export interface WebhookDeliveriesTable {
  /** GitHub's `X-GitHub-Delivery`. */
  id: string;
  event: string;
  payload: string;
  received_at: number;
  status: string;
  claimed_by: string | null;
  lease_until: number | null;
  attempts: number;
  note: string | null;
  finished_at: number | null;
}

/** Ids of things Sluice made elsewhere, by kind and key (JSON values). */
export interface ExternalRefsTable {
  kind: string;
  key: string;
  value: string;
  updated_at: number;
}

export interface LocksTable {
  name: string;
  owner: string;
  reason: string;
  token: number;
  acquired_at: number;
  /** Null: taken by hand, held until released. */
  expires_at: number | null;
  /** 1 once released; the row keeps the last token. */
  released: number;
}

/** A connection or a transaction: every query takes one as its first argument. */
export type Db = Kysely<Database>;

/** Which database is behind a `Db`; only locking and identity columns differ. */
export type DatabaseKind = 'sqlite' | 'postgres';
