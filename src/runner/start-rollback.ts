/**
 * Rolling an environment back (PRODUCT G5, K5): a new execution that
 * deploys again the artifact of the environment's previous successful
 * deploy, through the same rolling deploy (batches, drain, health checks,
 * automatic rollback on failure). Where the environment has approval rules
 * the rollback asks for an approval first, as any deploy there does (a
 * months-old release is a change too), unless the operator set
 * `skip_for_rollbacks`.
 */
import type { ExecutionState } from '../pipeline/snapshot.ts';
import type { ExecutionStore, ArtifactRecordStore, ExecutionSummary } from '../store/store.ts';
import { successfulDeploys } from './deploy-history.ts';
import type { PipelineRunner } from './pipeline-runner.ts';

/** The approval action of a rollback that needs one. */
export const ROLLBACK_APPROVAL = 'approve-rollback';

export type RollbackResult =
  { ok: true; execution: ExecutionState; to: ExecutionSummary } | { ok: false; reason: string };

export async function startRollback(
  store: ExecutionStore & ArtifactRecordStore,
  runner: PipelineRunner,
  input: {
    pipelineId: string;
    environment: string;
    by: string;
    /** Roll back what this execution deployed (default: the newest deploy). */
    from?: string;
    /** Ask for an approval of the rollback before it deploys. */
    approve?: boolean;
  },
): Promise<RollbackResult> {
  const deploys = await successfulDeploys(store, input.pipelineId, input.environment);
  const fromIndex = input.from === undefined ? 0 : deploys.findIndex((d) => d.execution.id === input.from);
  if (deploys.length === 0 || fromIndex === -1)
    return {
      ok: false,
      reason: `nothing has been deployed to ${input.environment} by this pipeline yet, so there is nothing to roll back`,
    };
  const current = deploys[fromIndex]!;
  for (const target of deploys.slice(fromIndex + 1)) {
    if (target.execution.revision.sha === current.execution.revision.sha) continue;
    const artifact = await store.findArtifact(target.execution.id, target.artifact);
    if (!artifact) continue;
    const execution = await runner.start(
      {
        pipelineId: input.pipelineId,
        revision: target.execution.revision,
        definition: {
          mode: 'queued',
          ...(target.execution.definition.app && { app: target.execution.definition.app }),
          stages: [
            {
              name: target.stage,
              needs: [],
              actions: [
                ...(input.approve
                  ? [
                      {
                        kind: 'approval' as const,
                        name: ROLLBACK_APPROVAL,
                        needs: [],
                        approval: { environment: input.environment },
                      },
                    ]
                  : []),
                {
                  kind: 'deploy',
                  name: target.action,
                  needs: input.approve ? [ROLLBACK_APPROVAL] : [],
                  deploy: { environment: input.environment, artifact: target.artifact },
                },
              ],
            },
          ],
        },
        trigger: `rollback of ${input.environment} to #${target.execution.seq} (${target.execution.revision.sha.slice(0, 7)}) by ${input.by}`,
        artifacts: [
          {
            name: artifact.name,
            sha256: artifact.sha256,
            size: artifact.size,
            stage: artifact.stage,
            action: artifact.action,
          },
        ],
      },
      input.by,
    );
    return { ok: true, execution, to: target.execution };
  }
  return {
    ok: false,
    reason: `no earlier release of ${input.environment} (before #${current.execution.seq}) is left to roll back to`,
  };
}
