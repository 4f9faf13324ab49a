/**
 * Feeds the metrics what finished in the executions that just changed. The
 * store is read one execution at a time, in the background: a metric is
 * never worth delaying the runner for, and a failed read only loses a sample.
 */
import type { ExecutionStore } from '../store/store.ts';
import type { SluiceMetrics } from './sluice-metrics.ts';

let queue: Promise<void> = Promise.resolve();

export function observeExecutions(store: ExecutionStore, metrics: SluiceMetrics, ids: string[]): void {
  queue = queue.then(async () => {
    for (const id of ids) {
      const execution = await store.getExecution(id).catch(() => undefined);
      if (execution) metrics.observeExecution(execution);
    }
  });
}
