/** `ExecutionStore` over Kysely: one set of queries for SQLite and PostgreSQL. */
import type { Command, ExecutionState, PipelineSnapshot, StateChange } from '../pipeline/snapshot.ts';
import type { ExecutionStatus } from '../pipeline/states.ts';
import { createExecution } from './create-execution.ts';
import type { DatabaseKind, Db } from './database.ts';
import type {
  EngineStep,
  ExecutionStore,
  ExecutionSummary,
  HistoryEntry,
  NewExecution,
  PipelineRecord,
  SourceUse,
} from './execution-store.ts';
import { inTransaction } from './in-transaction.ts';
import { loadExecutionSummaries } from './load-executions.ts';
import { loadSnapshot } from './load-snapshot.ts';
import {
  selectExecutionById,
  selectExecutionByOrigin,
  selectExecutionBySeq,
  selectExecutions,
  selectExecutionsByIds,
  selectNewestExecutionOf,
  selectNewestExecutionVersions,
} from './queries/executions.ts';
import { readStoreMetrics, type StoreMetrics } from './queries/metrics.ts';
import {
  ensurePipeline,
  lockPipeline,
  selectPipelines,
  selectPipelinesAwaitingApproval,
  selectPipelinesWithRunningActions,
} from './queries/pipelines.ts';
import { deleteExecutions, selectFinishedExecutionIds, selectSourceUses } from './queries/retention.ts';
import { selectStateChanges } from './queries/state-changes.ts';
import { saveStep } from './save-step.ts';
import { StoreError } from './store.ts';
import { SummaryCache } from './summary-cache.ts';

/** How many executions `listExecutions` returns when no limit is given. */
const DEFAULT_LIST_LIMIT = 50;

/**
 * How many summaries `listNewestExecutions` keeps between calls: the 30 of
 * `/sluice status` several times over, so memory stays flat however long the
 * history. The concerns made for a transaction keep their own, gone with it,
 * so nothing read before a commit outlives a rollback.
 */
const KEPT_SUMMARIES = 256;

export function makeExecutionStore(db: Db, kind: DatabaseKind): ExecutionStore {
  const summaries = new SummaryCache(KEPT_SUMMARIES);
  return {
    async ensurePipeline(repo: string, file: string): Promise<string> {
      return ensurePipeline(db, repo, file, Date.now());
    },

    async createExecution(input: NewExecution, actor: string, now: number): Promise<ExecutionState> {
      return inTransaction(db, (trx) => createExecution(trx, input, actor, now));
    },

    async updatePipeline(
      pipelineId: string,
      options: { actor: string; now: number; include?: string[]; claim?: { owner: string; until: number } },
      step: (snapshot: PipelineSnapshot) => EngineStep,
    ): Promise<Command[]> {
      return inTransaction(db, async (trx) => {
        if (!(await lockPipeline(trx, kind, pipelineId))) {
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
    },

    async listExecutions(options: { pipelineId?: string; limit?: number } = {}): Promise<ExecutionSummary[]> {
      const rows = await selectExecutions(db, {
        pipelineId: options.pipelineId,
        limit: options.limit ?? DEFAULT_LIST_LIMIT,
      });
      return loadExecutionSummaries(db, rows);
    },

    async listNewestExecutions(options: { pipelines: number }): Promise<ExecutionSummary[]> {
      const newest = await selectNewestExecutionVersions(db, options.pipelines);
      const listed = newest.map(({ id, version }) => summaries.get(id, Number(version)));
      const changed = newest.filter((_, i) => listed[i] === undefined).map(({ id }) => id);
      if (changed.length > 0) {
        // Each row with its runs from one snapshot, so a summary kept is of the version it carries. One that
        // changed again since its version was read is served as it is now, never as it was before.
        const built = await readConsistently(db, kind, async (trx) =>
          loadExecutionSummaries(trx, await selectExecutionsByIds(trx, changed)),
        );
        const byId = new Map(built.map((summary) => [summary.id, summaries.keep(summary)]));
        for (const [i, { id }] of newest.entries()) listed[i] ??= byId.get(id);
      }
      // One deleted between the two reads is left out, as it would be from a listing read after.
      return listed.filter((summary) => summary !== undefined);
    },

    async getNewestExecution(pipelineId: string): Promise<ExecutionSummary | undefined> {
      const row = await selectNewestExecutionOf(db, pipelineId);
      if (!row) return undefined;
      const [summary] = await loadExecutionSummaries(db, [row]);
      return summary;
    },

    async getExecution(idOrSeq: string | number, pipelineId?: string): Promise<ExecutionSummary | undefined> {
      const isSeq = typeof idOrSeq === 'number' || /^\d+$/.test(idOrSeq);
      // One snapshot for the row and its runs, so the version read is the version of the statuses read.
      return readConsistently(db, kind, async (trx) => {
        const row = isSeq
          ? await selectExecutionBySeq(trx, Number(idOrSeq), pipelineId)
          : await selectExecutionById(trx, idOrSeq);
        if (!row || (pipelineId !== undefined && row.pipeline_id !== pipelineId)) return undefined;
        const [summary] = await loadExecutionSummaries(trx, [row]);
        return summary;
      });
    },

    async findExecutionByOrigin(origin: string): Promise<ExecutionSummary | undefined> {
      const row = await selectExecutionByOrigin(db, origin);
      if (!row) return undefined;
      const [summary] = await loadExecutionSummaries(db, [row]);
      return summary;
    },

    async listHistory(executionId: string): Promise<HistoryEntry[]> {
      const rows = await selectStateChanges(db, executionId);
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
    },

    async listPipelinesWithRunningActions(): Promise<string[]> {
      return selectPipelinesWithRunningActions(db);
    },

    async listPipelinesAwaitingApproval(): Promise<string[]> {
      return selectPipelinesAwaitingApproval(db);
    },

    async listPipelines(repo?: string): Promise<PipelineRecord[]> {
      return selectPipelines(db, repo);
    },

    readMetrics(): Promise<StoreMetrics> {
      return readStoreMetrics(db);
    },

    async listFinishedExecutions(before: number): Promise<string[]> {
      return selectFinishedExecutionIds(db, before);
    },

    async deleteExecutions(ids: string[]): Promise<number> {
      if (ids.length === 0) return 0;
      return inTransaction(db, (trx) => deleteExecutions(trx, ids));
    },

    async listSourceUses(): Promise<SourceUse[]> {
      const rows = await selectSourceUses(db);
      return rows.map((r) => ({
        executionId: r.id,
        source: r.source,
        status: r.status as ExecutionStatus,
        updatedAt: Number(r.updated_at),
      }));
    },
  };
}

/**
 * Runs reads on one snapshot of the database: a SQLite transaction is one,
 * a PostgreSQL one only at REPEATABLE READ (at READ COMMITTED each query
 * sees what was committed when it began).
 */
function readConsistently<T>(db: Db, kind: DatabaseKind, read: (trx: Db) => Promise<T>): Promise<T> {
  if (db.isTransaction) return read(db);
  const transaction = db.transaction();
  return (kind === 'postgres' ? transaction.setIsolationLevel('repeatable read') : transaction).execute(read);
}
