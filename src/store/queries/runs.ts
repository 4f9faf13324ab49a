/** Queries on `stage_runs` and `action_runs`: the current state of every stage and action. */
import type { Insertable, Selectable, Updateable } from 'kysely';
import type { ActionRunsTable, Db, StageRunsTable } from '../database.ts';

/** What readers and the engine take of a stage run (not when it last changed). */
export type StageRunRow = Pick<
  Selectable<StageRunsTable>,
  'execution_id' | 'stage' | 'status' | 'attempt' | 'waiting_since' | 'reason'
>;
/** What readers and the engine take of an action run (not its claim, nor when it last changed). */
export type ActionRunRow = Pick<
  Selectable<ActionRunsTable>,
  'execution_id' | 'stage' | 'action' | 'status' | 'attempt' | 'reason' | 'started_at' | 'finished_at'
>;

/** Inserts the stage and action rows of a new execution. */
export async function insertRuns(
  db: Db,
  stages: Insertable<StageRunsTable>[],
  actions: Insertable<ActionRunsTable>[],
): Promise<void> {
  if (stages.length > 0) await db.insertInto('stage_runs').values(stages).execute();
  if (actions.length > 0) await db.insertInto('action_runs').values(actions).execute();
}

/** Every stage and action run of the given executions, only the columns they are shown and stepped by. */
export async function selectRuns(
  db: Db,
  executionIds: string[],
): Promise<{ stages: StageRunRow[]; actions: ActionRunRow[] }> {
  if (executionIds.length === 0) return { stages: [], actions: [] };
  const stages = await db
    .selectFrom('stage_runs')
    .select(['execution_id', 'stage', 'status', 'attempt', 'waiting_since', 'reason'])
    .where('execution_id', 'in', executionIds)
    .execute();
  const actions = await db
    .selectFrom('action_runs')
    .select(['execution_id', 'stage', 'action', 'status', 'attempt', 'reason', 'started_at', 'finished_at'])
    .where('execution_id', 'in', executionIds)
    .execute();
  return { stages, actions };
}

/** Writes one stage's current values; returns whether the row exists. */
export async function updateStageRun(
  db: Db,
  key: { executionId: string; stage: string },
  values: Updateable<StageRunsTable>,
): Promise<boolean> {
  const result = await db
    .updateTable('stage_runs')
    .set(values)
    .where('execution_id', '=', key.executionId)
    .where('stage', '=', key.stage)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Writes one action's current values; returns whether the row exists. */
export async function updateActionRun(
  db: Db,
  key: { executionId: string; stage: string; action: string },
  values: Updateable<ActionRunsTable>,
): Promise<boolean> {
  const result = await db
    .updateTable('action_runs')
    .set(values)
    .where('execution_id', '=', key.executionId)
    .where('stage', '=', key.stage)
    .where('action', '=', key.action)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * Extends `owner`'s claims on these running actions; returns those it no
 * longer holds (finished, interrupted by a peer, or claimed by another).
 */
export async function renewClaims(
  db: Db,
  owner: string,
  refs: Array<{ executionId: string; stage: string; action: string; attempt: number }>,
  until: number,
): Promise<number[]> {
  const lost: number[] = [];
  for (const [i, ref] of refs.entries()) {
    const result = await db
      .updateTable('action_runs')
      .set({ lease_until: until })
      .where('execution_id', '=', ref.executionId)
      .where('stage', '=', ref.stage)
      .where('action', '=', ref.action)
      .where('attempt', '=', ref.attempt)
      .where('status', '=', 'running')
      .where('claimed_by', '=', owner)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) lost.push(i);
  }
  return lost;
}

/**
 * Running actions whose claim ran out before `now` (or that were never claimed and have not moved since `staleBefore`).
 */
export async function selectExpiredClaims(db: Db, now: number, staleBefore: number) {
  return db
    .selectFrom('action_runs')
    .innerJoin('executions', 'executions.id', 'action_runs.execution_id')
    .select([
      'action_runs.execution_id',
      'action_runs.stage',
      'action_runs.action',
      'action_runs.attempt',
      'action_runs.claimed_by',
      'executions.pipeline_id',
    ])
    .where('action_runs.status', '=', 'running')
    .where((eb) =>
      eb.or([
        eb('action_runs.lease_until', '<', now),
        eb.and([eb('action_runs.lease_until', 'is', null), eb('action_runs.updated_at', '<', staleBefore)]),
      ]),
    )
    .orderBy('executions.pipeline_id')
    .execute();
}
