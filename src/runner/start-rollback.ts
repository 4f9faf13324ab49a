/**
 * Rolling an environment back (PRODUCT G5, K5): a new execution that
 * deploys again the artifact of the environment's previous successful
 * deploy, through the same rolling deploy (batches, drain, health checks,
 * automatic rollback on failure). It needs no approval: that release was
 * approved when it first went out.
 */
import type { ExecutionState } from '../pipeline/snapshot.ts';
import type { ExecutionSummary, Store } from '../store/store.ts';
import { successfulDeploys } from './deploy-history.ts';
import type { PipelineRunner } from './pipeline-runner.ts';

export type RollbackResult = { ok: true; execution: ExecutionState; to: ExecutionSummary } | { ok: false; reason: string };

export async function startRollback(
  store: Store,
  runner: PipelineRunner,
  input: { pipelineId: string; environment: string; by: string; /** Roll back what this execution deployed (default: the newest deploy). */ from?: string },
): Promise<RollbackResult> {
  const deploys = await successfulDeploys(store, input.pipelineId, input.environment);
  const fromIndex = input.from === undefined ? 0 : deploys.findIndex((d) => d.execution.id === input.from);
  if (deploys.length === 0 || fromIndex === -1) return { ok: false, reason: `nothing has been deployed to ${input.environment} by this pipeline yet, so there is nothing to roll back` };
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
          stages: [{ name: target.stage, needs: [], actions: [{ kind: 'deploy', name: target.action, needs: [], deploy: { environment: input.environment, artifact: target.artifact } }] }],
        },
        trigger: `rollback of ${input.environment} to #${target.execution.seq} (${target.execution.revision.sha.slice(0, 7)}) by ${input.by}`,
        artifacts: [{ name: artifact.name, sha256: artifact.sha256, size: artifact.size, stage: artifact.stage, action: artifact.action }],
      },
      input.by,
    );
    return { ok: true, execution, to: target.execution };
  }
  return { ok: false, reason: `no earlier release of ${input.environment} (before #${current.execution.seq}) is left to roll back to` };
}
