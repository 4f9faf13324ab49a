/**
 * The webhook inbox when its store fails (a full disk, a database
 * restarting): the failure is reported, nothing rejects unhandled, and the
 * delivery whose end could not be recorded is handled again at the next
 * round instead of waiting for its lease to run out.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { WebhookInbox } from '../../src/github/webhook-inbox.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';

test('a store that fails as a delivery is finished leaves it to be handled again at the next round, not after its lease', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-inbox-'));
  const real = await openStore({ dataDir: dir });
  try {
    let failures = 1;
    // The real store, but its next finishDelivery and postponeDelivery fail as a full disk would.
    const store = new Proxy(real, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver) as unknown;
        if ((key === 'finishDelivery' || key === 'postponeDelivery') && failures > 0) {
          return async () => {
            if (key === 'postponeDelivery') failures--;
            throw new Error('database or disk is full');
          };
        }
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    }) as Store;
    await real.recordDelivery({ id: 'd1', event: 'push', payload: '{}', receivedAt: Date.now() });
    const handled: string[] = [];
    const storeErrors: string[] = [];
    const inbox = new WebhookInbox({
      store,
      owner: 'test',
      pollMs: 3_600_000,
      handle: async (delivery) => {
        handled.push(delivery.id);
        return 'handled';
      },
      onStoreError: (error) => storeErrors.push((error as Error).message),
    });
    inbox.start();
    await inbox.idle();
    assert.deepEqual(storeErrors, ['database or disk is full']);
    assert.equal((await real.getDelivery('d1'))?.status, 'processing', 'not finished yet');

    inbox.wake();
    await inbox.idle();
    assert.deepEqual(handled, ['d1', 'd1'], 'handled again at the next round');
    assert.equal((await real.getDelivery('d1'))?.status, 'done');
    await inbox.stop();
  } finally {
    await real.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
