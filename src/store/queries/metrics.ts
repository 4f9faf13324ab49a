/** Queries for the operator's metrics: counts read at scrape time, so every replica reports the same totals. */
import type { Db } from '../database.ts';

export interface StoreMetrics {
  /** Executions per pipeline (repository and file) and status. */
  executions: Array<{ repo: string; file: string; status: string; count: number }>;
  /** Approval gates waiting for a decision, with when each started to wait. */
  approvals: Array<{ repo: string; since: number }>;
  /** Webhooks stored and not yet handled (received or being handled), and the oldest one's arrival. */
  inbox: { depth: number; oldestReceivedAt: number | null };
}

export async function readStoreMetrics(db: Db): Promise<StoreMetrics> {
  const executions = await db
    .selectFrom('executions')
    .innerJoin('pipelines', 'pipelines.id', 'executions.pipeline_id')
    .select(['pipelines.repo', 'pipelines.file', 'executions.status'])
    .select((eb) => eb.fn.countAll<number | string>().as('count'))
    .groupBy(['pipelines.repo', 'pipelines.file', 'executions.status'])
    .execute();
  const approvals = await db
    .selectFrom('action_runs')
    .innerJoin('executions', 'executions.id', 'action_runs.execution_id')
    .innerJoin('pipelines', 'pipelines.id', 'executions.pipeline_id')
    .select(['pipelines.repo', 'action_runs.started_at', 'action_runs.updated_at'])
    .where('action_runs.status', '=', 'awaiting_approval')
    .execute();
  const inbox = await db
    .selectFrom('webhook_deliveries')
    .select((eb) => [
      eb.fn.countAll<number | string>().as('depth'),
      eb.fn.min<number | string | null>('received_at').as('oldest'),
    ])
    .where('status', 'in', ['received', 'processing'])
    .executeTakeFirst();
  return {
    executions: executions.map((row) => ({
      repo: row.repo,
      file: row.file,
      status: row.status,
      count: Number(row.count),
    })),
    approvals: approvals.map((row) => ({ repo: row.repo, since: Number(row.started_at ?? row.updated_at) })),
    inbox: {
      depth: Number(inbox?.depth ?? 0),
      oldestReceivedAt: inbox?.oldest === null || inbox?.oldest === undefined ? null : Number(inbox.oldest),
    },
  };
}
