import { step } from '../pipeline/engine.ts';
import type { Command } from '../pipeline/snapshot.ts';
import type { ExecutionStore, ClaimStore, InboxStore, Store } from '../store/store.ts';

/** What a crash leaves behind, in words a person reads in the history. */
export const INTERRUPTED_REASON = 'Sluice stopped while it ran';

/**
 * After a crash nothing that was recorded as running still runs (R3): mark
 * it interrupted so it can be retried, free the environment locks its
 * deploys held (S8) and the webhooks it was handling instead of waiting for
 * their leases to run out. Only
 * safe while no other process drives these pipelines, which the
 * data-directory lock guarantees. With `hold`, nothing new is started (for
 * commands that only look).
 */
export async function recoverInterrupted(
  store: ExecutionStore & ClaimStore & InboxStore & Pick<Store, 'kind'>,
  options: { actor: string; now: () => number; hold: boolean },
): Promise<Array<{ pipelineId: string; commands: Command[]; executionIds: string[] }>> {
  const recovered = [];
  for (const pipelineId of await store.listPipelinesWithRunningActions()) {
    const changed = new Set<string>();
    // A cancelled execution whose deploy was still rolling back is not running, but its action was.
    const stopping = (await store.listExecutions({ pipelineId })).filter(
      (e) => e.status !== 'running' && e.stages.some((s) => s.actions.some((a) => a.status === 'running')),
    );
    const include = stopping.map((e) => e.id);
    const commands = await store.updatePipeline(
      pipelineId,
      { actor: options.actor, now: options.now(), include },
      (snapshot) => {
        const result = step(snapshot, { type: 'interrupt_running', reason: INTERRUPTED_REASON }, options.now(), {
          hold: options.hold,
        });
        for (const change of result.changes) changed.add(change.executionId);
        return result;
      },
    );
    recovered.push({ pipelineId, commands, executionIds: [...changed] });
  }
  if (store.kind === 'sqlite') {
    await store.releaseLeases(options.now());
    // Webhooks the dead process was handling are handled again now, not when their claim runs out.
    await store.releaseDeliveryClaims();
  }
  return recovered;
}
