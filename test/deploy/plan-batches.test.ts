import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planBatches } from '../../src/deploy/plan-batches.ts';

const hosts = (n: number) => Array.from({ length: n }, (_, i) => `web${i + 1}`);

test('batch 1 deploys host by host', () => {
  assert.deepEqual(planBatches(hosts(3), { batch: 1, minHealthy: 1, environment: 'production' }), [
    ['web1'],
    ['web2'],
    ['web3'],
  ]);
});

test('a percentage batch rounds up', () => {
  assert.deepEqual(planBatches(hosts(5), { batch: '50%', minHealthy: 0, environment: 'p' }), [
    ['web1', 'web2', 'web3'],
    ['web4', 'web5'],
  ]);
});

test('the healthy minimum caps the batch size', () => {
  assert.deepEqual(planBatches(hosts(4), { batch: 4, minHealthy: '50%', environment: 'p' }), [
    ['web1', 'web2'],
    ['web3', 'web4'],
  ]);
});

test('an environment that cannot spare a host is refused with what to change', () => {
  assert.throws(
    () => planBatches(hosts(1), { batch: 1, minHealthy: 1, environment: 'production' }),
    /environment "production" has 1 host and must keep 1 healthy, so no host can be taken out for the deploy; lower rolling.min_healthy or add hosts/,
  );
});
