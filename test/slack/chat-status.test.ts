/**
 * How `/sluice status` says what an execution is doing: a stage that broke
 * (failed, or lost with its process) is named; one a person cancelled is not
 * a failure to point at.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { executionState } from '../../src/slack/chat-ops/chat-status.ts';
import type { ExecutionSummary, StageSummary } from '../../src/store/store.ts';
import { executionSummary } from '../helpers/execution-summary.ts';

function execution(
  status: ExecutionSummary['status'],
  stages: Array<[string, StageSummary['status']]>,
): ExecutionSummary {
  return executionSummary({
    status,
    stages: stages.map(([name, stageStatus]) => ({ name, status: stageStatus, attempt: 1, actions: [] })),
  });
}

test('a running execution names the stage that broke, failed or interrupted', () => {
  assert.equal(
    executionState(
      execution('running', [
        ['build', 'failed'],
        ['dev', 'pending'],
      ]),
    ),
    '❌ failed in build',
  );
  assert.equal(
    executionState(
      execution('running', [
        ['build', 'succeeded'],
        ['dev', 'interrupted'],
      ]),
    ),
    '❌ interrupted in dev',
  );
  assert.equal(
    executionState(
      execution('running', [
        ['build', 'cancelled'],
        ['dev', 'pending'],
      ]),
    ),
    '▶️ running',
  );
});

test('an ended execution names the stage that broke, and none when a person cancelled it', () => {
  assert.equal(
    executionState(
      execution('failed', [
        ['build', 'succeeded'],
        ['dev', 'failed'],
      ]),
    ),
    '❌ failed in dev',
  );
  assert.equal(
    executionState(
      execution('interrupted', [
        ['build', 'interrupted'],
        ['dev', 'pending'],
      ]),
    ),
    '⚠️ interrupted in build',
  );
  assert.equal(
    executionState(
      execution('cancelled', [
        ['build', 'succeeded'],
        ['dev', 'cancelled'],
      ]),
    ),
    '⊘ cancelled',
  );
});
