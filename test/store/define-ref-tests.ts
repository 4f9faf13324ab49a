/**
 * Refs (what Sluice made elsewhere) and the claims on making them: two
 * reporters deciding to create the same check run, Deployment or card
 * create one; a claim whose holder died is taken over; a transaction spans
 * every concern.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { RefKind, RefStore } from '../../src/store/ref-store.ts';
import type { Fresh } from './define-store-suite.ts';
import { corruptRow } from './fixtures/corrupt-row.ts';
import { pushedExecution } from './fixtures/two-stage-pipeline.ts';
import type { StoreBackend } from './store-backends.ts';

const LEASE = 60_000;
const absent = (value: unknown) => value === undefined;

/** `owner`'s claim at `now`, for one lease, on making the ref `kind`/`key` while none is made. */
const claim = <K extends RefKind>(store: RefStore, kind: K, key: string, owner: string, now: number) =>
  store.claimCreation(kind, key, { owner, now, leaseMs: LEASE }, absent);

export function defineRefTests(backend: StoreBackend, fresh: Fresh): void {
  it('keeps refs as JSON by kind and key, lists them by key prefix and deletes them', async (t) => {
    const { store } = await fresh(t);
    await store.putRef('check_run', 'e1/build', { id: 5, sent: 'a', completed: false }, 1_000);
    await store.putRef('check_run', 'e1/test', { id: 6, sent: 'b', completed: true }, 1_000);
    await store.putRef('check_run', 'e2/build', { id: 7, sent: 'c', completed: false }, 1_000);
    await store.putRef('check_run', 'e1/build', { id: 5, sent: 'd', completed: true }, 2_000);
    assert.deepEqual(await store.getRef('check_run', 'e1/build'), { id: 5, sent: 'd', completed: true });
    assert.equal(await store.getRef('deployment', 'e1/build'), undefined, 'kinds do not share keys');
    assert.deepEqual(
      (await store.listRefs('check_run', 'e1/')).map((r) => `${r.key} ${r.value.id}`),
      ['e1/build 5', 'e1/test 6'],
    );
    await store.deleteRef('check_run', 'e1/test');
    assert.deepEqual(
      (await store.listRefs('check_run', '')).map((r) => r.key),
      ['e1/build', 'e2/build'],
    );
  });

  it('gives the creation of a ref to one claimant; the other is told it is claimed, then what was made', async (t) => {
    const { store } = await fresh(t);
    const a = await claim(store, 'deployment', 'e1/deploy/ship/1', 'a', 1_000);
    assert.equal(a.decision, 'create');
    const b = await claim(store, 'deployment', 'e1/deploy/ship/1', 'b', 1_100);
    assert.deepEqual(b, { decision: 'claimed-elsewhere', value: undefined });
    assert.ok(a.decision === 'create');
    const made = { id: 41, environment: 'production', state: 'queued' } as const;
    await store.finishCreation('deployment', 'e1/deploy/ship/1', a.token, made, 1_200);
    assert.deepEqual(await store.getRef('deployment', 'e1/deploy/ship/1'), made);
    assert.deepEqual(await claim(store, 'deployment', 'e1/deploy/ship/1', 'b', 1_300), {
      decision: 'made',
      value: made,
    });
    // Nothing was left claimed: a claim is gone once finished, and one not needed is not kept.
    assert.equal((await store.listRefs('deployment', '')).length, 1);
    const again = await claim(store, 'deployment', 'e1/deploy/ship/2', 'b', 1_400);
    assert.equal(again.decision, 'create', 'another key is claimed on its own');
  });

  it('lets a claim whose holder did not finish within the lease be taken over, and the late holder not end it', async (t) => {
    const { store } = await fresh(t);
    const key = 'e1/production/approve/1';
    const dead = await claim(store, 'slack_card', key, 'a', 1_000);
    assert.equal(dead.decision, 'create');
    const early = await claim(store, 'slack_card', key, 'b', 1_000 + LEASE);
    assert.equal(early.decision, 'claimed-elsewhere', 'held until the lease has run out');
    const late = await claim(store, 'slack_card', key, 'b', 1_001 + LEASE);
    assert.equal(late.decision, 'create');
    assert.ok(dead.decision === 'create' && late.decision === 'create');
    // The first holder ends its claim after all, having made nothing: the new holder's claim stands.
    await store.finishCreation('slack_card', key, dead.token, undefined, 1_002 + LEASE);
    const third = await claim(store, 'slack_card', key, 'c', 1_003 + LEASE);
    assert.equal(third.decision, 'claimed-elsewhere');
    const card = { channel: 'C1', ts: '1.2', sent: '', replies: [] };
    await store.finishCreation('slack_card', key, late.token, card, 1_004 + LEASE);
    assert.deepEqual(await store.getRef('slack_card', key), card);
  });

  it('keeps a renewed claim past its first lease, and renews only the claim that still stands', async (t) => {
    const { store } = await fresh(t);
    const key = 'e1/build';
    const slow = await claim(store, 'check_run', key, 'a', 1_000);
    assert.ok(slow.decision === 'create');
    assert.equal(await store.renewCreation('check_run', key, { owner: 'a', token: slow.token }, 1_000 + LEASE), true);
    const other = await claim(store, 'check_run', key, 'b', 1_001 + LEASE);
    assert.equal(other.decision, 'claimed-elsewhere', 'its holder is alive: the lease runs from the renewal');
    const late = await claim(store, 'check_run', key, 'b', 1_001 + 2 * LEASE);
    assert.equal(late.decision, 'create', 'unrenewed for a lease, it is taken over');
    assert.equal(
      await store.renewCreation('check_run', key, { owner: 'a', token: slow.token }, 1_002 + 2 * LEASE),
      false,
      'the old holder renews nothing of the new claim',
    );
    const third = await claim(store, 'check_run', key, 'c', 1_002 + 3 * LEASE);
    assert.equal(third.decision, 'create', 'the new claim ran out from its own time, not the old holder’s renewal');
  });

  it('tells a holder whose claim was taken over, and with ifHeld records nothing of it over what the new holder did', async (t) => {
    const { store } = await fresh(t);
    const key = 'acme/shop:main';
    const head = (delivery: string) => ({ delivery, sha: delivery, before: '0', pushedAt: 1 });
    const slow = await claim(store, 'branch_head', key, 'a', 1_000);
    const quick = await claim(store, 'branch_head', key, 'b', 1_001 + LEASE);
    assert.ok(slow.decision === 'create' && quick.decision === 'create');
    assert.equal(await store.finishCreation('branch_head', key, quick.token, head('newer'), 1_002 + LEASE), true);
    assert.equal(
      await store.finishCreation('branch_head', key, slow.token, head('older'), 1_003 + LEASE, { ifHeld: true }),
      false,
    );
    assert.deepEqual(await store.getRef('branch_head', key), head('newer'));
  });

  it('asks whether the ref still needs making only once the claim stands, so a re-creation is claimed too', async (t) => {
    const { store } = await fresh(t);
    const key = 'e1/build';
    await store.putRef('check_run', key, { id: 5, sent: 'done', completed: true }, 1_000);
    // A completed check run is replaced when its stage runs again: needed while the ref still names it.
    const replaces = (id: number) => (value: { id?: number } | undefined) => value?.id === id;
    const a = await store.claimCreation('check_run', key, { owner: 'a', now: 1_100, leaseMs: LEASE }, replaces(5));
    assert.equal(a.decision, 'create');
    assert.ok(a.decision === 'create');
    await store.finishCreation('check_run', key, a.token, { id: 9, sent: 'new', completed: false }, 1_200);
    assert.deepEqual(
      await store.claimCreation('check_run', key, { owner: 'b', now: 1_300, leaseMs: LEASE }, replaces(5)),
      {
        decision: 'made',
        value: { id: 9, sent: 'new', completed: false },
      },
    );
  });

  if (backend.replicas) {
    it('gives each creation to one of two replicas claiming it at once', async (t) => {
      const { store, open } = await fresh(t);
      const other = await open();
      const decisions = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          claim(i % 2 ? store : other, 'check_run', `e${i >> 1}/build`, `r${i % 2}`, 1_000),
        ),
      );
      for (let e = 0; e < 10; e++) {
        assert.deepEqual(
          [decisions[2 * e]!.decision, decisions[2 * e + 1]!.decision].sort(),
          ['claimed-elsewhere', 'create'],
          `e${e}/build`,
        );
      }
    });
  }

  it('commits every concern written in a transaction together, or none of them when it throws', async (t) => {
    const { store } = await fresh(t);
    const { execution } = await pushedExecution(store, 'abc');
    const ref = { executionId: execution.id, stage: 'build', action: 'compile', attempt: 1 };
    await assert.rejects(
      store.transaction(async (trx) => {
        await trx.appendLog(ref, [{ stream: 'stdout', text: 'lost', at: 1_100 }]);
        await trx.putRef('installation', 'acme/web', { id: 1 }, 1_100);
        throw new Error('changed its mind');
      }),
      /changed its mind/,
    );
    assert.deepEqual(await store.readLog(ref), []);
    assert.equal(await store.getRef('installation', 'acme/web'), undefined);
    await store.transaction(async (trx) => {
      await trx.appendLog(ref, [{ stream: 'stdout', text: 'kept', at: 1_200 }]);
      await trx.putRef('installation', 'acme/web', { id: 2 }, 1_200);
    });
    assert.deepEqual(
      (await store.readLog(ref)).map((l) => l.text),
      ['kept'],
    );
    assert.deepEqual(await store.getRef('installation', 'acme/web'), { id: 2 });
  });

  it('refuses a damaged ref where it is read, naming its kind and key and what to fix, and reads the others', async (t) => {
    const { store, place, open } = await fresh(t);
    await store.putRef('check_run', 'e1/build', { id: 5, sent: 'a', completed: false }, 1_000);
    await store.putRef('check_run', 'e1/test', { id: 6, sent: 'b', completed: true }, 1_000);
    await store.putRef(
      'deployment',
      'e1/production/deploy/1',
      { id: 9, environment: 'production', state: 'queued' },
      1_000,
    );
    await store.close();
    await place.write(
      `UPDATE external_refs SET value = '{"id":"5","sent":"a"}' WHERE kind = 'check_run' AND key = 'e1/build';
       UPDATE external_refs SET value = '{"id":9,' WHERE kind = 'deployment'`,
    );
    const reopened = await open();

    const wrongShape =
      /^The store's check_run ref "e1\/build" cannot be read: it is not what Sluice writes there \(id: .*expected number.*; completed: .*expected boolean.*\)\. Delete the row of kind "check_run" and key "e1\/build" from external_refs/;
    await assert.rejects(reopened.getRef('check_run', 'e1/build'), corruptRow(wrongShape));
    await assert.rejects(reopened.listRefs('check_run', 'e1/'), corruptRow(wrongShape));
    await assert.rejects(claim(reopened, 'check_run', 'e1/build', 'a', 2_000), corruptRow(wrongShape));
    await assert.rejects(
      reopened.getRef('deployment', 'e1/production/deploy/1'),
      corruptRow(
        /^The store's deployment ref "e1\/production\/deploy\/1" cannot be read: it is not JSON \(\{"id":9,\)\./,
      ),
    );
    assert.deepEqual(await reopened.getRef('check_run', 'e1/test'), { id: 6, sent: 'b', completed: true });
  });
}
