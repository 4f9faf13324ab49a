/**
 * Locks with leases (PRODUCT S8), on every database: one holder at a time,
 * a dead holder's lease runs out, a stale token cannot renew or release.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Fresh } from './define-store-suite.ts';
import type { StoreBackend } from './store-backends.ts';

export function defineLockTests(_backend: StoreBackend, fresh: Fresh): void {
  const name = 'environment:production';

  test('a lock has one holder; a second owner is told who holds it and why', async (t) => {
    const { store } = await fresh(t);
    const first = await store.acquireLock({
      name,
      owner: 'execution #3',
      reason: 'deploying a1b2c3d',
      ttlMs: 30_000,
      now: 1_000,
    });
    assert.equal(first.ok, true);
    const second = await store.acquireLock({
      name,
      owner: 'execution #4',
      reason: 'deploying ffff000',
      ttlMs: 30_000,
      now: 2_000,
    });
    assert.deepEqual(second, {
      ok: false,
      held: {
        name,
        owner: 'execution #3',
        reason: 'deploying a1b2c3d',
        token: 1,
        acquiredAt: 1_000,
        expiresAt: 31_000,
      },
    });
    assert.equal((await store.findLock(name, 2_000))?.owner, 'execution #3');
  });

  test('a lease that is not renewed runs out and the lock can be taken, with a higher token', async (t) => {
    const { store } = await fresh(t);
    const first = await store.acquireLock({ name, owner: 'replica-a', reason: 'deploy', ttlMs: 10_000, now: 0 });
    assert.ok(first.ok);
    assert.equal(await store.renewLock(name, first.lock.token, 10_000, 5_000), true);
    assert.equal(
      (await store.acquireLock({ name, owner: 'replica-b', reason: 'deploy', ttlMs: 10_000, now: 14_000 })).ok,
      false,
    );
    const taken = await store.acquireLock({ name, owner: 'replica-b', reason: 'deploy', ttlMs: 10_000, now: 15_001 });
    assert.ok(taken.ok);
    assert.equal(taken.lock.token, first.lock.token + 1);
    assert.equal(await store.renewLock(name, first.lock.token, 10_000, 15_002), false, 'the old holder lost it');
    assert.equal(await store.releaseLock(name, { token: first.lock.token }, 15_003), false, 'and cannot release it');
    assert.equal((await store.findLock(name, 15_004))?.owner, 'replica-b');
  });

  test('after a crash, leases are released at once and locks taken by hand stay', async (t) => {
    const { store } = await fresh(t);
    assert.ok(
      (await store.acquireLock({ name, owner: 'execution #3', reason: 'deploying a1b2c3d', ttlMs: 60_000, now: 0 })).ok,
    );
    assert.ok(
      (
        await store.acquireLock({
          name: 'environment:dev',
          owner: 'slack:U123',
          reason: 'incident 42',
          ttlMs: null,
          now: 0,
        })
      ).ok,
    );
    const released = await store.releaseLeases(1_000);
    assert.deepEqual(
      released.map((lock) => [lock.name, lock.owner]),
      [[name, 'execution #3']],
    );
    assert.equal(await store.findLock(name, 1_001), undefined);
    assert.equal((await store.findLock('environment:dev', 1_001))?.owner, 'slack:U123');
  });

  test('a lock taken by hand has no lease and holds until its owner releases it', async (t) => {
    const { store } = await fresh(t);
    assert.ok((await store.acquireLock({ name, owner: 'slack:U123', reason: 'incident 42', ttlMs: null, now: 0 })).ok);
    assert.equal(
      (await store.acquireLock({ name, owner: 'execution #9', reason: 'deploy', ttlMs: 1_000, now: 10 ** 12 })).ok,
      false,
    );
    assert.equal(await store.releaseLock(name, { owner: 'slack:U999' }, 1), false);
    assert.equal(await store.releaseLock(name, { owner: 'slack:U123' }, 1), true);
    assert.equal(await store.findLock(name, 2), undefined);
    assert.ok((await store.acquireLock({ name, owner: 'execution #9', reason: 'deploy', ttlMs: 1_000, now: 3 })).ok);
  });
}
