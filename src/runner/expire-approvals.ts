/**
 * Approval gates that waited longer than their environment allows expire
 * (PRODUCT K3): the gate fails as a rejection would, and the card, the check
 * run and the CLI say it expired. Run every so often by the service; an
 * expiry that races a decision loses to it in the engine.
 */
import type { ApprovalRules } from '../config/approval-rules.ts';
import type { ExecutionStore } from '../store/store.ts';
import type { PipelineRunner } from './pipeline-runner.ts';
import { findAction } from '../pipeline/definition.ts';

export async function expireApprovals(
  store: ExecutionStore,
  runner: PipelineRunner,
  rulesFor: (environment: string) => ApprovalRules | undefined,
  now: number,
): Promise<number> {
  let expired = 0;
  for (const pipelineId of await store.listPipelinesAwaitingApproval()) {
    const running = (await store.listExecutions({ pipelineId, limit: 500 })).filter((e) => e.status === 'running');
    for (const execution of running) {
      for (const stage of execution.stages) {
        for (const action of stage.actions) {
          if (action.status !== 'awaiting_approval' || action.startedAt === undefined) continue;
          const definition = findAction(execution.definition, stage.name, action.name);
          if (definition?.kind !== 'approval') continue;
          const rules = rulesFor(definition.approval.environment);
          if (!rules || now < action.startedAt + rules.timeoutMs) continue;
          const ref = { executionId: execution.id, stage: stage.name, action: action.name, attempt: action.attempt };
          await runner.dispatch(pipelineId, { type: 'approval_expired', ...ref, after: rules.timeout }, 'sluice');
          expired++;
        }
      }
    }
  }
  return expired;
}
