/**
 * The `Store` over Kysely: one set of queries for SQLite and PostgreSQL.
 * Everything that writes more than one row runs in a transaction.
 */
import type { Command, ExecutionState, PipelineSnapshot, StateChange } from '../pipeline/snapshot.ts';
import type { ExecutionStatus } from '../pipeline/states.ts';
import { createExecution } from './create-execution.ts';
import type { DatabaseKind, Db } from './database.ts';
import { loadExecutionSummaries } from './load-executions.ts';
import { loadSnapshot } from './load-snapshot.ts';
import { selectArtifact, saveArtifact } from './queries/artifacts.ts';
import {
  selectExecutionById,
  selectExecutionByOrigin,
  selectExecutionBySeq,
  selectExecutions,
} from './queries/executions.ts';
import { deleteRef, selectRef, selectRefsByPrefix, upsertRef } from './queries/external-refs.ts';
import {
  claimDelivery,
  finishDelivery,
  insertDelivery,
  postponeDelivery,
  releaseDeliveryClaims,
  selectDelivery,
  type DeliveryRow,
} from './queries/webhook-deliveries.ts';
import { acquireLock, findLock, releaseLeases, releaseLock, renewLock } from './queries/locks.ts';
import {
  insertLogLines,
  type LogLineRow,
  selectLogLines,
  selectLogLinesAfter,
  selectLogLinesBefore,
} from './queries/log-lines.ts';
import {
  ensurePipeline,
  lockPipeline,
  selectPipelines,
  selectPipelinesAwaitingApproval,
  selectPipelinesWithRunningActions,
} from './queries/pipelines.ts';
import {
  deleteExecutions,
  pruneDeliveries,
  selectArtifactUses,
  selectFinishedExecutionIds,
  selectSourceUses,
} from './queries/retention.ts';
import { renewClaims, selectExpiredClaims } from './queries/runs.ts';
import { selectStateChanges } from './queries/state-changes.ts';
import { readStoreMetrics, type StoreMetrics } from './queries/metrics.ts';
import { saveStep } from './save-step.ts';
import {
  StoreError,
  type ActionRef,
  type ArtifactRecord,
  type ArtifactUse,
  type Delivery,
  type EngineStep,
  type ExecutionSummary,
  type HistoryEntry,
  type LockState,
  type LogLine,
  type NumberedLogLine,
  type NewDelivery,
  type NewExecution,
  type PipelineRecord,
  type SourceUse,
  type Store,
} from './store.ts';

/** How many executions `listExecutions` returns when no limit is given. */
const DEFAULT_LIST_LIMIT = 50;

export class KyselyStore implements Store {
  readonly kind: DatabaseKind;
  readonly #db: Db;
  readonly #onClose: () => Promise<void>;
  #closed: Promise<void> | undefined;

  /** `onClose` runs after the database is closed (e.g. to release the data directory). */
  constructor(db: Db, kind: DatabaseKind, onClose: () => Promise<void> = async () => {}) {
    this.#db = db;
    this.kind = kind;
    this.#onClose = onClose;
  }

  async ensurePipeline(repo: string, file: string): Promise<string> {
    return ensurePipeline(this.#db, repo, file, Date.now());
  }

  async createExecution(input: NewExecution, actor: string, now: number): Promise<ExecutionState> {
    return this.#db.transaction().execute((trx) => createExecution(trx, input, actor, now));
  }

  async updatePipeline(
    pipelineId: string,
    options: { actor: string; now: number; include?: string[]; claim?: { owner: string; until: number } },
    step: (snapshot: PipelineSnapshot) => EngineStep,
  ): Promise<Command[]> {
    return this.#db.transaction().execute(async (trx) => {
      if (!(await lockPipeline(trx, this.kind, pipelineId))) {
        throw new StoreError('NOT_FOUND', `There is no pipeline ${pipelineId}.`);
      }
      const before = await loadSnapshot(trx, pipelineId, options.include ?? []);
      // The step gets its own copy: whatever it mutates, `before` stays what the database holds.
      const result = step(structuredClone(before));
      await saveStep(trx, before, result, {
        actor: options.actor,
        now: options.now,
        ...(options.claim && { claim: options.claim }),
      });
      return result.commands;
    });
  }

  async renewClaims(owner: string, refs: ActionRef[], until: number): Promise<ActionRef[]> {
    if (refs.length === 0) return [];
    const lost = await this.#db.transaction().execute((trx) => renewClaims(trx, owner, refs, until));
    return lost.map((i) => refs[i]!);
  }

  async listExpiredClaims(
    now: number,
    staleBefore: number,
  ): Promise<Array<ActionRef & { pipelineId: string; owner: string | null }>> {
    const rows = await selectExpiredClaims(this.#db, now, staleBefore);
    return rows.map((r) => ({
      executionId: r.execution_id,
      stage: r.stage,
      action: r.action,
      attempt: r.attempt,
      pipelineId: r.pipeline_id,
      owner: r.claimed_by ?? null,
    }));
  }

  async acquireLock(input: { name: string; owner: string; reason: string; ttlMs: number | null; now: number }) {
    return this.#db.transaction().execute((trx) => acquireLock(trx, this.kind, input));
  }

  async renewLock(name: string, token: number, ttlMs: number, now: number): Promise<boolean> {
    return this.#db.transaction().execute((trx) => renewLock(trx, this.kind, name, token, ttlMs, now));
  }

  async releaseLock(name: string, holder: { token?: number; owner?: string }, now: number): Promise<boolean> {
    return this.#db.transaction().execute((trx) => releaseLock(trx, this.kind, name, holder, now));
  }

  async releaseLeases(now: number): Promise<LockState[]> {
    return this.#db.transaction().execute((trx) => releaseLeases(trx, now));
  }

  async findLock(name: string, now: number): Promise<LockState | undefined> {
    return findLock(this.#db, name, now);
  }

  async listExecutions(options: { pipelineId?: string; limit?: number } = {}): Promise<ExecutionSummary[]> {
    const rows = await selectExecutions(this.#db, {
      pipelineId: options.pipelineId,
      limit: options.limit ?? DEFAULT_LIST_LIMIT,
    });
    return loadExecutionSummaries(this.#db, rows);
  }

  async getExecution(idOrSeq: string | number, pipelineId?: string): Promise<ExecutionSummary | undefined> {
    const isSeq = typeof idOrSeq === 'number' || /^\d+$/.test(idOrSeq);
    const row = isSeq
      ? await selectExecutionBySeq(this.#db, Number(idOrSeq), pipelineId)
      : await selectExecutionById(this.#db, idOrSeq);
    if (!row || (pipelineId !== undefined && row.pipeline_id !== pipelineId)) return undefined;
    const [summary] = await loadExecutionSummaries(this.#db, [row]);
    return summary;
  }

  async listHistory(executionId: string): Promise<HistoryEntry[]> {
    const rows = await selectStateChanges(this.#db, executionId);
    return rows.map((row) => {
      const entry: HistoryEntry = {
        executionId: row.execution_id,
        entity: row.entity as StateChange['entity'],
        from: row.from_status,
        to: row.to_status,
        at: row.at,
        actor: row.actor,
      };
      if (row.stage !== null) entry.stage = row.stage;
      if (row.action !== null) entry.action = row.action;
      if (row.attempt !== null) entry.attempt = row.attempt;
      if (row.reason !== null) entry.reason = row.reason;
      return entry;
    });
  }

  async listPipelinesWithRunningActions(): Promise<string[]> {
    return selectPipelinesWithRunningActions(this.#db);
  }

  async listPipelinesAwaitingApproval(): Promise<string[]> {
    return selectPipelinesAwaitingApproval(this.#db);
  }

  async listPipelines(repo?: string): Promise<PipelineRecord[]> {
    return selectPipelines(this.#db, repo);
  }

  async appendLog(ref: ActionRef, lines: LogLine[]): Promise<void> {
    if (lines.length === 0) return;
    const rows = lines.map((line) => ({
      execution_id: ref.executionId,
      stage: ref.stage,
      action: ref.action,
      attempt: ref.attempt,
      stream: line.stream,
      text: line.text,
      at: line.at,
    }));
    await this.#db.transaction().execute((trx) => insertLogLines(trx, rows));
  }

  async readLog(ref: ActionRef): Promise<LogLine[]> {
    return (await selectLogLines(this.#db, ref)).map(toLogLine);
  }

  async readLogAfter(ref: ActionRef, afterSeq: number, limit: number): Promise<NumberedLogLine[]> {
    return (await selectLogLinesAfter(this.#db, ref, afterSeq, limit)).map((row) => ({
      ...toLogLine(row),
      seq: row.seq,
    }));
  }

  async readLogTail(ref: ActionRef, bytes: number): Promise<LogLine[]> {
    const tail: LogLineRow[] = [];
    let filled = 0;
    let before: number | undefined;
    while (filled < bytes) {
      const page = await selectLogLinesBefore(this.#db, ref, before, TAIL_PAGE);
      for (const row of page) {
        tail.push(row);
        filled += Buffer.byteLength(row.text) + 1;
        if (filled >= bytes) break;
      }
      if (page.length < TAIL_PAGE) break;
      before = page[page.length - 1]!.seq;
    }
    return tail.reverse().map(toLogLine);
  }

  async recordArtifact(artifact: ArtifactRecord): Promise<void> {
    await saveArtifact(this.#db, {
      execution_id: artifact.executionId,
      name: artifact.name,
      sha256: artifact.sha256,
      size: artifact.size,
      stage: artifact.stage,
      action: artifact.action,
      created_at: artifact.createdAt,
    });
  }

  async findArtifact(executionId: string, name: string): Promise<ArtifactRecord | undefined> {
    const row = await selectArtifact(this.#db, executionId, name);
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
  }

  async recordDelivery(delivery: NewDelivery): Promise<boolean> {
    const [isNew] = await this.recordDeliveries([delivery]);
    return isNew ?? false;
  }

  async recordDeliveries(deliveries: NewDelivery[]): Promise<boolean[]> {
    if (deliveries.length === 0) return [];
    return this.#db.transaction().execute(async (trx) => {
      const results: boolean[] = [];
      for (const d of deliveries) {
        results.push(
          await insertDelivery(trx, {
            id: d.id,
            event: d.event,
            payload: d.payload,
            received_at: d.receivedAt,
            ...(d.done !== undefined && { done: d.done }),
          }),
        );
      }
      return results;
    });
  }

  readMetrics(): Promise<StoreMetrics> {
    return readStoreMetrics(this.#db);
  }

  async claimDelivery(owner: string, now: number, leaseMs: number): Promise<Delivery | undefined> {
    const row = await this.#db.transaction().execute((trx) => claimDelivery(trx, this.kind, owner, now, now + leaseMs));
    return row && toDelivery(row);
  }

  async finishDelivery(id: string, status: 'done' | 'failed', note: string | undefined, now: number): Promise<void> {
    await finishDelivery(this.#db, id, status, note, now);
  }

  async releaseDeliveryClaims(): Promise<number> {
    return releaseDeliveryClaims(this.#db);
  }

  async postponeDelivery(id: string, note: string, retryAt: number): Promise<void> {
    await postponeDelivery(this.#db, id, note, retryAt);
  }

  async getDelivery(id: string): Promise<Delivery | undefined> {
    const row = await selectDelivery(this.#db, id);
    return row && toDelivery(row);
  }

  async findExecutionByOrigin(origin: string): Promise<ExecutionSummary | undefined> {
    const row = await selectExecutionByOrigin(this.#db, origin);
    if (!row) return undefined;
    const [summary] = await loadExecutionSummaries(this.#db, [row]);
    return summary;
  }

  async getRef<T>(kind: string, key: string): Promise<T | undefined> {
    const value = await selectRef(this.#db, kind, key);
    return value === undefined ? undefined : (JSON.parse(value) as T);
  }

  async putRef(kind: string, key: string, value: unknown, now: number): Promise<void> {
    await upsertRef(this.#db, kind, key, JSON.stringify(value), now);
  }

  async deleteRef(kind: string, key: string): Promise<void> {
    await deleteRef(this.#db, kind, key);
  }

  async listRefs<T>(kind: string, prefix: string): Promise<Array<{ key: string; value: T }>> {
    const rows = await selectRefsByPrefix(this.#db, kind, prefix);
    return rows.map((row) => ({ key: row.key, value: JSON.parse(row.value) as T }));
  }

  async listFinishedExecutions(before: number): Promise<string[]> {
    return selectFinishedExecutionIds(this.#db, before);
  }

  async deleteExecutions(ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return this.#db.transaction().execute((trx) => deleteExecutions(trx, ids));
  }

  async listArtifactUses(): Promise<ArtifactUse[]> {
    const rows = await selectArtifactUses(this.#db);
    return rows.map((r) => ({
      executionId: r.execution_id,
      sha256: r.sha256,
      status: r.status as ExecutionStatus,
      updatedAt: Number(r.updated_at),
    }));
  }

  async listSourceUses(): Promise<SourceUse[]> {
    const rows = await selectSourceUses(this.#db);
    return rows.map((r) => ({
      executionId: r.id,
      source: r.source,
      status: r.status as ExecutionStatus,
      updatedAt: Number(r.updated_at),
    }));
  }

  async pruneDeliveries(payloadsBefore: number, idsBefore: number): Promise<{ payloads: number; deliveries: number }> {
    return this.#db.transaction().execute((trx) => pruneDeliveries(trx, payloadsBefore, idsBefore));
  }

  /** Closes the database (and releases what `onClose` releases); later calls wait for the first. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      try {
        await this.#db.destroy();
      } finally {
        await this.#onClose();
      }
    })();
    return this.#closed;
  }
}

function toDelivery(row: DeliveryRow): Delivery {
  return {
    id: row.id,
    event: row.event,
    payload: row.payload,
    receivedAt: Number(row.received_at),
    status: row.status as Delivery['status'],
    attempts: row.attempts,
    ...(row.note !== null && { note: row.note }),
  };
}

/** Lines read per query while a log's tail is gathered from its end. */
const TAIL_PAGE = 500;

function toLogLine(row: LogLineRow): LogLine {
  return { stream: row.stream as LogLine['stream'], text: row.text, at: row.at };
}
