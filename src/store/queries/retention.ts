/**
 * Queries that prune what the server config's `retention` lets go: finished
 * executions with every row that belongs to them, and handled webhook
 * deliveries (first their payloads, later their ids). Deciding what to keep
 * is prune-data.ts's; these only select and delete.
 */
import { sql } from 'kysely';
import type { Db } from '../database.ts';
import { CREATION_CLAIM } from './external-refs.ts';
import { refreshNewestExecution } from './pipelines.ts';

/** Ids of executions that are no longer running and have not changed since `before`, oldest first. */
export async function selectFinishedExecutionIds(db: Db, before: number): Promise<string[]> {
  const rows = await db
    .selectFrom('executions')
    .select('id')
    .where('status', '!=', 'running')
    .where('updated_at', '<', before)
    .orderBy('updated_at')
    .execute();
  return rows.map((r) => r.id);
}

// Keeps one statement well under SQLite's limit on bound parameters.
const IDS_PER_DELETE = 500;

/**
 * Deletes these executions and everything recorded of them (logs, history,
 * stage and action runs, artifact records, and the ids Sluice kept of their
 * check runs, Deployments and Slack cards), unless one is running again by
 * now; a pipeline whose newest execution went gets the newest left. Run in
 * a transaction. Returns how many executions went.
 */
export async function deleteExecutions(db: Db, ids: string[]): Promise<number> {
  let deleted = 0;
  for (let i = 0; i < ids.length; i += IDS_PER_DELETE) {
    const wanted = ids.slice(i, i + IDS_PER_DELETE);
    // A retry may have made one running again since it was selected.
    const chunk = (
      await db
        .selectFrom('executions')
        .select('id')
        .where('id', 'in', wanted)
        .where('status', '!=', 'running')
        .execute()
    ).map((r) => r.id);
    if (chunk.length === 0) continue;
    await deleteRefsOf(db, chunk);
    await db.deleteFrom('log_lines').where('execution_id', 'in', chunk).execute();
    await db.deleteFrom('state_changes').where('execution_id', 'in', chunk).execute();
    await db.deleteFrom('artifacts').where('execution_id', 'in', chunk).execute();
    await db.deleteFrom('action_runs').where('execution_id', 'in', chunk).execute();
    await db.deleteFrom('stage_runs').where('execution_id', 'in', chunk).execute();
    const result = await db.deleteFrom('executions').where('id', 'in', chunk).executeTakeFirst();
    deleted += Number(result.numDeletedRows);
    await refreshNewestExecution(db, { newestAmong: chunk });
  }
  return deleted;
}

/** Kinds of external refs keyed `<execution id>/…`. */
const EXECUTION_REF_KINDS = ['check_run', 'deployment', 'slack_card', 'live_command', 'live_workspace', CREATION_CLAIM];

async function deleteRefsOf(db: Db, executionIds: string[]): Promise<void> {
  // By the length of the prefix (the same for all: execution ids are UUIDs), so the key's start is compared with `in`.
  const byLength = Map.groupBy(
    executionIds.map((id) => `${id}/`),
    (prefix) => prefix.length,
  );
  for (const [length, prefixes] of byLength) {
    const keyPrefix = sql<string>`substr(${sql.ref('key')}, 1, ${sql.lit(length)})`;
    const checkRuns = await db
      .selectFrom('external_refs')
      .select('value')
      .where('kind', '=', 'check_run')
      .where(keyPrefix, 'in', prefixes)
      .execute();
    const checkRunIds = checkRuns.flatMap((r) => checkRunIdOf(r.value) ?? []);
    if (checkRunIds.length > 0)
      await db.deleteFrom('external_refs').where('kind', '=', 'check_run_id').where('key', 'in', checkRunIds).execute();
    await db
      .deleteFrom('external_refs')
      .where('kind', 'in', EXECUTION_REF_KINDS)
      .where(keyPrefix, 'in', prefixes)
      .execute();
  }
}

/**
 * The check run id a `check_run` ref records; none for one never created, or a damaged row, which is pruned all the
 * same.
 */
function checkRunIdOf(value: string): string | undefined {
  try {
    const id = (JSON.parse(value) as { id?: unknown } | null)?.id;
    return typeof id === 'number' ? String(id) : undefined;
  } catch {
    return undefined;
  }
}

/** Every artifact record with the status of its execution and when that last changed. */
export async function selectArtifactUses(
  db: Db,
): Promise<Array<{ execution_id: string; sha256: string; status: string; updated_at: number }>> {
  return db
    .selectFrom('artifacts')
    .innerJoin('executions', 'executions.id', 'artifacts.execution_id')
    .select(['artifacts.execution_id', 'artifacts.sha256', 'executions.status', 'executions.updated_at'])
    .execute();
}

/** Every execution that names a source, with its status and when it last changed. */
export async function selectSourceUses(
  db: Db,
): Promise<Array<{ id: string; source: string; status: string; updated_at: number }>> {
  const rows = await db
    .selectFrom('executions')
    .select(['id', 'source', 'status', 'updated_at'])
    .where('source', 'is not', null)
    .execute();
  return rows.map((r) => ({ id: r.id, source: r.source!, status: r.status, updated_at: r.updated_at }));
}

/**
 * Empties the payloads of deliveries handled before `payloadsBefore` and
 * deletes those handled before `idsBefore`. A delivery still waiting or
 * being handled is never touched.
 */
export async function pruneDeliveries(
  db: Db,
  payloadsBefore: number,
  idsBefore: number,
): Promise<{ payloads: number; deliveries: number }> {
  const gone = await db
    .deleteFrom('webhook_deliveries')
    .where('status', 'in', ['done', 'failed'])
    .where('finished_at', '<', idsBefore)
    .executeTakeFirst();
  const emptied = await db
    .updateTable('webhook_deliveries')
    .set({ payload: '' })
    .where('status', 'in', ['done', 'failed'])
    .where('finished_at', '<', payloadsBefore)
    .where('payload', '!=', '')
    .executeTakeFirst();
  return { payloads: Number(emptied.numUpdatedRows), deliveries: Number(gone.numDeletedRows) };
}
