import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_LEASE_MS, keepLease } from '../../src/store/keep-lease.ts';
import { recoveryRules } from '../../src/config/recovery-rules.ts';

test('a lease is renewed every third of its length until the heartbeat stops', (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  let renewals = 0;
  const stop = keepLease(30_000, async () => {
    renewals += 1;
  });
  t.mock.timers.tick(9_999);
  assert.equal(renewals, 0);
  t.mock.timers.tick(1);
  assert.equal(renewals, 1);
  t.mock.timers.tick(20_000);
  assert.equal(renewals, 3, 'three renewals in one lease: two may fail before it runs out');
  stop();
  t.mock.timers.tick(60_000);
  assert.equal(renewals, 3);
});

test('however short the lease, renewals are at least 250 ms apart', (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  let renewals = 0;
  const stop = keepLease(300, async () => {
    renewals += 1;
  });
  t.mock.timers.tick(249);
  assert.equal(renewals, 0);
  t.mock.timers.tick(1);
  assert.equal(renewals, 1);
  stop();
});

test('the server config without recovery.lease gets the one default lease', () => {
  assert.equal(DEFAULT_LEASE_MS, 30_000);
  assert.equal(recoveryRules(undefined).leaseMs, DEFAULT_LEASE_MS);
  assert.equal(recoveryRules({ recovery: { lease: '2m' } }).leaseMs, 120_000);
});
