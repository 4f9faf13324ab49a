import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deploymentTarget } from '../../src/github/deployment-target.ts';
import type { ExecutionSummary } from '../../src/store/store.ts';
import { executionSummary } from '../helpers/execution-summary.ts';

type Action = ExecutionSummary['stages'][number]['actions'][number];

/** A production stage of an approval, a smoke check and the deploy, in these states. */
function execution(
  status: ExecutionSummary['status'],
  stage: { status: ExecutionSummary['stages'][number]['status']; reason?: string },
  actions: Action[],
): ExecutionSummary {
  return executionSummary({
    status,
    definition: {
      mode: 'superseded',
      stages: [
        {
          name: 'production',
          needs: [],
          actions: [
            { kind: 'approval', name: 'approve', needs: [], approval: { environment: 'production' } },
            { kind: 'command', name: 'smoke', needs: [], command: { host: 'builder', run: ['true'] } },
            {
              kind: 'deploy',
              name: 'deploy',
              needs: ['approve', 'smoke'],
              deploy: { environment: 'production', artifact: 'app' },
            },
          ],
        },
      ],
    } as unknown as ExecutionSummary['definition'],
    stages: [{ name: 'production', attempt: 1, ...stage, actions }],
  });
}

const pending: Action = { name: 'deploy', status: 'pending', attempt: 1 };

describe('the status a Deployment should have', () => {
  test('queued while its stage runs; nothing before it exists on GitHub', () => {
    assert.deepEqual(
      deploymentTarget(execution('running', { status: 'running' }, [pending]), 'production', 'deploy', false),
      { state: 'queued' },
    );
    assert.equal(
      deploymentTarget(execution('failed', { status: 'failed' }, [pending]), 'production', 'deploy', false),
      undefined,
    );
  });

  test('a deploy that never ran ends inactive when it was decided against, saying why', () => {
    const rejected = execution(
      'failed',
      { status: 'failed', reason: 'action "approve" failed: rejected by slack:U0ANN' },
      [{ name: 'approve', status: 'failed', attempt: 1 }, { name: 'smoke', status: 'succeeded', attempt: 1 }, pending],
    );
    assert.deepEqual(deploymentTarget(rejected, 'production', 'deploy', true), {
      state: 'inactive',
      description: 'Not deployed: action "approve" failed: rejected by slack:U0ANN',
    });
    const superseded = execution(
      'superseded',
      { status: 'superseded', reason: 'superseded by execution #5 (1234567)' },
      [{ name: 'approve', status: 'superseded', attempt: 1 }, pending],
    );
    assert.deepEqual(deploymentTarget(superseded, 'production', 'deploy', true), {
      state: 'inactive',
      description: 'Not deployed: superseded by execution #5 (1234567)',
    });
    const cancelled = execution('cancelled', { status: 'cancelled', reason: 'cancelled by cli:ann' }, [
      { name: 'approve', status: 'cancelled', attempt: 1 },
      pending,
    ]);
    assert.equal(deploymentTarget(cancelled, 'production', 'deploy', true)?.state, 'inactive');
  });

  test('a deploy that never ran because a sibling failed or was interrupted ends in error', () => {
    const failed = execution('failed', { status: 'failed', reason: 'action "smoke" failed: exit code 1' }, [
      { name: 'approve', status: 'cancelled', attempt: 1 },
      { name: 'smoke', status: 'failed', attempt: 1 },
      pending,
    ]);
    assert.deepEqual(deploymentTarget(failed, 'production', 'deploy', true), {
      state: 'error',
      description: 'Not deployed: action "smoke" failed: exit code 1',
    });
    const interrupted = execution('interrupted', { status: 'interrupted' }, [
      { name: 'smoke', status: 'interrupted', attempt: 1 },
      pending,
    ]);
    assert.deepEqual(deploymentTarget(interrupted, 'production', 'deploy', true), {
      state: 'error',
      description: 'Not deployed: the execution was interrupted',
    });
  });

  test('a stage waiting to run again after a retry leaves its Deployment as it is', () => {
    assert.equal(
      deploymentTarget(execution('running', { status: 'waiting' }, [pending]), 'production', 'deploy', true),
      undefined,
    );
  });
});
