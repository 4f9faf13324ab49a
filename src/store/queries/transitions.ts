/** Queries on `transitions` (current state) and `transition_changes` (who changed it when). */
import type { Selectable } from 'kysely';
import type { Db, TransitionsTable } from '../database.ts';

export type TransitionRow = Selectable<TransitionsTable>;

/** Every transition of a pipeline that was ever disabled, by stage. */
export async function selectTransitions(db: Db, pipelineId: string): Promise<TransitionRow[]> {
  return db.selectFrom('transitions').selectAll().where('pipeline_id', '=', pipelineId).orderBy('stage').execute();
}

/** Sets a transition's state and appends the change to its audit trail. */
export async function saveTransition(db: Db, row: TransitionRow): Promise<void> {
  await db
    .insertInto('transitions')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['pipeline_id', 'stage']).doUpdateSet({
        enabled: row.enabled,
        reason: row.reason,
        actor: row.actor,
        at: row.at,
      }),
    )
    .execute();
  await db.insertInto('transition_changes').values(row).execute();
}
