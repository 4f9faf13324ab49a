/** Queries on `executions`. Rows come back with their pipeline's repo. */
import type { Insertable, Selectable } from 'kysely';
import type { Db, ExecutionsTable } from '../database.ts';

/** An `executions` row with the repo of its pipeline. */
export type ExecutionRow = Selectable<ExecutionsTable> & { repo: string };

function selectWithRepo(db: Db) {
  return db
    .selectFrom('executions')
    .innerJoin('pipelines', 'pipelines.id', 'executions.pipeline_id')
    .selectAll('executions')
    .select('pipelines.repo');
}

/** Inserts a new execution row. */
export async function insertExecution(db: Db, row: Insertable<ExecutionsTable>): Promise<void> {
  await db.insertInto('executions').values(row).execute();
}

/**
 * A pipeline's running executions plus those named in `include`, oldest
 * first. Two branches, each on its own index (the pipeline's running ones by
 * `executions_pipeline_status_seq`, in order; the named ones by id): one
 * condition with an OR makes SQLite walk every execution the pipeline ever
 * had.
 */
export async function selectSnapshotExecutions(db: Db, pipelineId: string, include: string[]): Promise<ExecutionRow[]> {
  const running = selectWithRepo(db)
    .where('executions.pipeline_id', '=', pipelineId)
    .where('executions.status', '=', 'running');
  if (include.length === 0) return running.orderBy('executions.seq').execute();
  const named = selectWithRepo(db)
    .where('executions.pipeline_id', '=', pipelineId)
    .where('executions.id', 'in', include)
    .where('executions.status', '<>', 'running');
  return db.selectFrom(running.unionAll(named).as('snapshot')).selectAll().orderBy('snapshot.seq').execute();
}

/** Newest first: by creation time, then by seq for executions created in the same millisecond. */
export async function selectExecutions(
  db: Db,
  options: { pipelineId?: string; limit: number },
): Promise<ExecutionRow[]> {
  let query = selectWithRepo(db);
  if (options.pipelineId !== undefined) query = query.where('executions.pipeline_id', '=', options.pipelineId);
  return query
    .orderBy('executions.created_at', 'desc')
    .orderBy('executions.seq', 'desc')
    .orderBy('executions.id')
    .limit(options.limit)
    .execute();
}

/**
 * The newest execution of each of the first `pipelines` pipelines (by repo
 * and file, as `selectPipelines` lists them), in that order; a pipeline
 * without executions has no row. One query, through the id each pipeline
 * keeps of its newest, and only each one's id and version: what a reader
 * needs to tell which of the summaries it keeps are still current.
 */
export async function selectNewestExecutionVersions(
  db: Db,
  pipelines: number,
): Promise<Array<{ id: string; version: number }>> {
  return db
    .selectFrom((eb) =>
      eb
        .selectFrom('pipelines')
        .select(['newest_execution_id', 'repo', 'file'])
        .orderBy('repo')
        .orderBy('file')
        .limit(pipelines)
        .as('first'),
    )
    .innerJoin('executions', 'executions.id', 'first.newest_execution_id')
    .select(['executions.id', 'executions.version'])
    .orderBy('first.repo')
    .orderBy('first.file')
    .execute();
}

/** The executions of these ids, in no particular order; those that are gone have no row. */
export async function selectExecutionsByIds(db: Db, ids: string[]): Promise<ExecutionRow[]> {
  if (ids.length === 0) return [];
  return selectWithRepo(db).where('executions.id', 'in', ids).execute();
}

/** The newest execution of one pipeline, as `selectNewestExecutionVersions` names it. */
export async function selectNewestExecutionOf(db: Db, pipelineId: string): Promise<ExecutionRow | undefined> {
  return db
    .selectFrom('pipelines')
    .innerJoin('executions', 'executions.id', 'pipelines.newest_execution_id')
    .selectAll('executions')
    .select('pipelines.repo')
    .where('pipelines.id', '=', pipelineId)
    .executeTakeFirst();
}

/** One execution by id, or undefined. */
export async function selectExecutionById(db: Db, id: string): Promise<ExecutionRow | undefined> {
  return selectWithRepo(db).where('executions.id', '=', id).executeTakeFirst();
}

/** Execution `seq` of a pipeline, or of the pipeline that most recently started one with that number. */
export async function selectExecutionBySeq(
  db: Db,
  seq: number,
  pipelineId?: string,
): Promise<ExecutionRow | undefined> {
  let query = selectWithRepo(db).where('executions.seq', '=', seq);
  if (pipelineId !== undefined) query = query.where('executions.pipeline_id', '=', pipelineId);
  return query.orderBy('executions.created_at', 'desc').limit(1).executeTakeFirst();
}

/** Writes an execution's status and reason; returns whether the row exists. */
export async function updateExecutionStatus(
  db: Db,
  id: string,
  values: { status: string; reason: string | null; updatedAt: number },
): Promise<boolean> {
  const result = await db
    .updateTable('executions')
    .set({ status: values.status, reason: values.reason, updated_at: values.updatedAt })
    .where('id', '=', id)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Marks executions as changed at `now` (something inside them moved), and raises their versions. */
export async function touchExecutions(db: Db, ids: string[], now: number): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('executions')
    .set((eb) => ({ updated_at: now, version: eb('version', '+', 1) }))
    .where('id', 'in', ids)
    .execute();
}

/** The execution started by `origin`. */
export async function selectExecutionByOrigin(db: Db, origin: string): Promise<ExecutionRow | undefined> {
  return selectWithRepo(db).where('executions.origin', '=', origin).executeTakeFirst();
}
