/** Queries on `pipelines`: identity, the seq counter, the newest execution and the per-pipeline write lock. */
import { randomUUID } from 'node:crypto';
import type { ExpressionBuilder } from 'kysely';
import type { Database, DatabaseKind, Db } from '../database.ts';

/** The id of the pipeline of `repo`'s `file`, inserting it if it is new (safe against a concurrent insert). */
export async function ensurePipeline(db: Db, repo: string, file: string, now: number): Promise<string> {
  await db
    .insertInto('pipelines')
    .values({ id: randomUUID(), repo, file, last_seq: 0, created_at: now })
    .onConflict((oc) => oc.columns(['repo', 'file']).doNothing())
    .execute();
  const row = await db
    .selectFrom('pipelines')
    .select('id')
    .where('repo', '=', repo)
    .where('file', '=', file)
    .executeTakeFirstOrThrow();
  return row.id;
}

/**
 * Takes the next execution number of a pipeline. A single UPDATE … RETURNING
 * both reads and bumps the counter, so two creators can never get the same
 * number; undefined when there is no such pipeline.
 */
export async function takeNextSeq(db: Db, pipelineId: string): Promise<number | undefined> {
  const row = await db
    .updateTable('pipelines')
    .set((eb) => ({ last_seq: eb('last_seq', '+', 1) }))
    .where('id', '=', pipelineId)
    .returning('last_seq')
    .executeTakeFirst();
  return row?.last_seq;
}

/**
 * Makes the calling transaction the only writer of the pipeline until it
 * ends. PostgreSQL: a row lock that other replicas' transactions wait for.
 * SQLite: nothing to do, since one process owns the file and Kysely runs its
 * transactions one at a time on a single connection. False if there is no
 * such pipeline.
 */
export async function lockPipeline(db: Db, kind: DatabaseKind, pipelineId: string): Promise<boolean> {
  let query = db.selectFrom('pipelines').select('id').where('id', '=', pipelineId);
  if (kind === 'postgres') query = query.forUpdate();
  return (await query.executeTakeFirst()) !== undefined;
}

/** Pipelines with at least one action recorded as running. */
export async function selectPipelinesWithRunningActions(db: Db): Promise<string[]> {
  const rows = await db
    .selectFrom('action_runs')
    .innerJoin('executions', 'executions.id', 'action_runs.execution_id')
    .select('executions.pipeline_id')
    .distinct()
    .where('action_runs.status', '=', 'running')
    .orderBy('executions.pipeline_id')
    .execute();
  return rows.map((r) => r.pipeline_id);
}

/** Pipelines with at least one approval gate open in a running execution. */
export async function selectPipelinesAwaitingApproval(db: Db): Promise<string[]> {
  const rows = await db
    .selectFrom('action_runs')
    .innerJoin('executions', 'executions.id', 'action_runs.execution_id')
    .select('executions.pipeline_id')
    .distinct()
    .where('action_runs.status', '=', 'awaiting_approval')
    .where('executions.status', '=', 'running')
    .orderBy('executions.pipeline_id')
    .execute();
  return rows.map((r) => r.pipeline_id);
}

/** Every pipeline, or those of one repository, by repo and file. */
export async function selectPipelines(
  db: Db,
  repo?: string,
): Promise<Array<{ id: string; repo: string; file: string }>> {
  let query = db.selectFrom('pipelines').select(['id', 'repo', 'file']);
  if (repo !== undefined) query = query.where('repo', '=', repo);
  const rows = await query.orderBy('repo').orderBy('file').execute();
  return rows.map((row) => ({ id: row.id, repo: row.repo, file: row.file }));
}

/**
 * Sets the newest execution of pipelines (the first `listExecutions` gives
 * for each: by creation time, then seq, then id, passing over one created
 * superseded — an older push delivered late — while another is not), read
 * from the per-pipeline index. Run in the transaction that creates or deletes
 * executions, after it did: of the pipeline given by id, or of every
 * pipeline whose newest was among the ids deleted.
 */
export async function refreshNewestExecution(
  db: Db,
  which: { pipelineId: string } | { newestAmong: string[] },
): Promise<void> {
  // Superseded at once or by a newer execution: either way not what the pipeline stands at, while another is.
  const newest = (eb: ExpressionBuilder<Database, 'pipelines'>, passOverSuperseded: boolean) => {
    let sub = eb
      .selectFrom('executions')
      .select('executions.id')
      .whereRef('executions.pipeline_id', '=', 'pipelines.id');
    if (passOverSuperseded) sub = sub.where('executions.status', '<>', 'superseded');
    return sub
      .orderBy('executions.created_at', 'desc')
      .orderBy('executions.seq', 'desc')
      .orderBy('executions.id')
      .limit(1);
  };
  let query = db.updateTable('pipelines').set((eb) => ({
    newest_execution_id: eb.fn.coalesce(newest(eb, true), newest(eb, false)),
  }));
  if ('pipelineId' in which) query = query.where('id', '=', which.pipelineId);
  else if (which.newestAmong.length === 0) return;
  else query = query.where('newest_execution_id', 'in', which.newestAmong);
  await query.execute();
}
