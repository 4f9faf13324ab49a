/**
 * The store suite: the same sentences must hold on every database. Called
 * once per backend by store.test.ts.
 */
import { after, before, describe, type TestContext } from 'node:test';
import type { Store } from '../../src/store/store.ts';
import { defineClaimTests } from './define-claim-tests.ts';
import { defineExecutionTests } from './define-execution-tests.ts';
import { defineLockTests } from './define-lock-tests.ts';
import { defineNewestTests } from './define-newest-tests.ts';
import { defineRecordTests } from './define-record-tests.ts';
import { defineRefTests } from './define-ref-tests.ts';
import { defineRetentionTests } from './define-retention-tests.ts';
import type { Place, StoreBackend } from './store-backends.ts';

/** A fresh place and a store open on it; both are cleaned up when the test ends. */
export type Fresh = (t: TestContext) => Promise<{ place: Place; store: Store; open(): Promise<Store> }>;

export function defineStoreSuite(backend: StoreBackend): void {
  describe(`the store on ${backend.name}`, () => {
    before(() => backend.setup());
    after(() => backend.teardown());

    const fresh: Fresh = async (t) => {
      const place = await backend.fresh();
      const opened: Store[] = [];
      const open = async () => {
        const store = await place.open();
        opened.push(store);
        return store;
      };
      t.after(async () => {
        for (const store of opened) await store.close();
        await place.remove();
      });
      return { place, store: await open(), open };
    };

    defineExecutionTests(backend, fresh);
    defineNewestTests(backend, fresh);
    defineRecordTests(backend, fresh);
    defineLockTests(backend, fresh);
    defineClaimTests(backend, fresh);
    defineRefTests(backend, fresh);
    defineRetentionTests(backend, fresh);
  });
}
