/**
 * Inserts a new execution: the next seq of its pipeline, every stage and
 * action `pending` on attempt 1, the first line of its history, and its
 * pipeline's newest execution. One that `supersededIf` finds out of date is
 * inserted ended: superseded, its stages too, with the reason.
 */
import { randomUUID } from 'node:crypto';
import type { ExecutionState, StageState } from '../pipeline/snapshot.ts';
import type { Db } from './database.ts';
import { saveArtifact } from './queries/artifacts.ts';
import { insertExecution } from './queries/executions.ts';
import { refreshNewestExecution, takeNextSeq } from './queries/pipelines.ts';
import { insertRuns } from './queries/runs.ts';
import { insertStateChanges } from './queries/state-changes.ts';
import { makeRefStore } from './make-ref-store.ts';
import { StoreError, type NewExecution } from './store.ts';

/** Run inside a transaction: the seq, the rows and the history land together or not at all. */
export async function createExecution(
  db: Db,
  input: NewExecution,
  actor: string,
  now: number,
): Promise<ExecutionState> {
  const seq = await takeNextSeq(db, input.pipelineId);
  if (seq === undefined) {
    throw new StoreError('NOT_FOUND', `There is no pipeline ${input.pipelineId} to start an execution of.`);
  }
  // After the seq is taken: that locks the pipeline's row, so whatever made this out of date is seen.
  const superseded = await input.supersededIf?.(makeRefStore(db));
  const status = superseded === undefined ? 'running' : 'superseded';
  const id = randomUUID();
  await insertExecution(db, {
    id,
    pipeline_id: input.pipelineId,
    seq,
    status,
    reason: superseded ?? null,
    revision: JSON.stringify(input.revision),
    definition: JSON.stringify(input.definition),
    trigger: input.trigger,
    source: input.source ?? null,
    rerun_of: input.rerunOf ?? null,
    origin: input.origin ?? null,
    created_at: now,
    updated_at: now,
  });
  await refreshNewestExecution(db, { pipelineId: input.pipelineId });

  const stageStatus = superseded === undefined ? 'pending' : 'superseded';
  const stages: Record<string, StageState> = {};
  for (const stage of input.definition.stages) {
    stages[stage.name] = {
      status: stageStatus,
      ...(superseded !== undefined && { reason: superseded }),
      attempt: 1,
      actions: Object.fromEntries(stage.actions.map((a) => [a.name, { status: 'pending' as const, attempt: 1 }])),
    };
  }
  await insertRuns(
    db,
    input.definition.stages.map((s) => ({
      execution_id: id,
      stage: s.name,
      status: stageStatus,
      attempt: 1,
      reason: superseded ?? null,
      updated_at: now,
    })),
    input.definition.stages.flatMap((s) =>
      s.actions.map((a) => ({
        execution_id: id,
        stage: s.name,
        action: a.name,
        status: 'pending',
        attempt: 1,
        updated_at: now,
      })),
    ),
  );
  for (const artifact of input.artifacts ?? []) {
    await saveArtifact(db, {
      execution_id: id,
      name: artifact.name,
      sha256: artifact.sha256,
      size: artifact.size,
      stage: artifact.stage,
      action: artifact.action,
      created_at: now,
    });
  }
  await insertStateChanges(db, [
    {
      execution_id: id,
      entity: 'execution',
      from_status: null,
      to_status: 'running',
      reason: input.trigger,
      actor,
      at: now,
    },
    ...(superseded === undefined
      ? []
      : [
          {
            execution_id: id,
            entity: 'execution',
            from_status: 'running',
            to_status: 'superseded',
            reason: superseded,
            actor,
            at: now,
          },
          ...input.definition.stages.map((s) => ({
            execution_id: id,
            entity: 'stage',
            stage: s.name,
            from_status: 'pending',
            to_status: 'superseded',
            attempt: 1,
            reason: superseded,
            actor,
            at: now,
          })),
        ]),
  ]);
  return {
    id,
    seq,
    status,
    ...(superseded !== undefined && { reason: superseded }),
    revision: input.revision,
    definition: input.definition,
    stages,
  };
}
