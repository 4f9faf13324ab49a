/**
 * An execution's summary as the store hands it to a view (a check run, a
 * Deployment's status, a Slack card, `/sluice status`), for the tests of
 * those pure views: execution #4 of acme/shop's main, running, with
 * `fields` laid over it.
 */
import type { ExecutionSummary } from '../../src/store/store.ts';

export function executionSummary(fields: Partial<ExecutionSummary> = {}): ExecutionSummary {
  return {
    id: 'e1',
    pipelineId: 'p1',
    repo: 'acme/shop',
    seq: 4,
    status: 'running',
    revision: { sha: 'abcdef1234567890', ref: 'main' },
    trigger: 'push by alice',
    createdAt: 0,
    updatedAt: 1000,
    version: 1,
    definition: { mode: 'superseded', stages: [] },
    stages: [],
    ...fields,
  };
}
