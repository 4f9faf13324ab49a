/**
 * A write to GitHub that takes longer than a creation claim's lease (a
 * secondary rate limit's Retry-After waited out a few times, a long queue of
 * paced writes): the replica making it is alive, so its claim must still
 * stand, or the other replica reporting the same change takes it over and
 * the commit shows two *Sluice: build* check runs (PRODUCT R2, G2). On a
 * real PostgreSQL, two reporters on one store; GitHub is a stand-in that
 * holds the first replica's create until the second has reported.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RefusalLog } from '../../src/github/github-refusal.ts';
import type { InstallationOctokit } from '../../src/github/github-api.ts';
import { syncCheckRuns, type ReportContext } from '../../src/github/report-check-runs.ts';
import { executionSummary } from '../helpers/execution-summary.ts';
import { startPostgresStore, type PostgresStore } from '../helpers/postgres-store.ts';
import { until } from '../helpers/until.ts';

const LEASE_MS = 900;

let bed: PostgresStore | undefined;

before(async () => {
  bed = await startPostgresStore('sluice-claim-lease-', 'data');
});
after(() => bed?.stop());

const execution = executionSummary({
  definition: {
    mode: 'superseded',
    stages: [{ name: 'build', needs: [], actions: [{ name: 'compile', kind: 'build' }] }],
  } as unknown as ReturnType<typeof executionSummary>['definition'],
  stages: [
    {
      name: 'build',
      status: 'running',
      attempt: 1,
      actions: [{ name: 'compile', status: 'running', attempt: 1, startedAt: 0 }],
    },
  ] as ReturnType<typeof executionSummary>['stages'],
});

/** GitHub's check runs as both replicas see them: every one created, and a create that waits until let go. */
function standIn(hold: Promise<void> | undefined, created: string[], owner: string, asked: () => void) {
  return {
    rest: {
      checks: {
        async create(body: { name: string }) {
          asked();
          await hold;
          created.push(`${body.name} by ${owner}`);
          return { data: { id: created.length } };
        },
        async update() {
          return { data: {} };
        },
      },
    },
  } as unknown as InstallationOctokit;
}

test('a replica whose create outlasts the lease keeps its claim, and the other replica makes no second check run', async () => {
  const { store, db } = bed!;
  let now = 1_000;
  const created: string[] = [];
  let letGo!: () => void;
  const hold = new Promise<void>((resolve) => (letGo = resolve));
  let asked = false;
  const context = (owner: string, octokit: InstallationOctokit): ReportContext => ({
    store,
    octokit,
    now,
    clock: () => now,
    refusals: new RefusalLog(() => {}),
    claim: { owner, leaseMs: LEASE_MS },
    claimedElsewhere: [],
    unreleased: [],
  });
  const url = () => 'https://sluice.example.com/executions/e1';

  const first = syncCheckRuns(
    context(
      'a',
      standIn(hold, created, 'a', () => (asked = true)),
    ),
    execution,
    url,
  );
  await until('the first replica asks GitHub to create the check run', () => asked || undefined);
  // GitHub keeps it waiting past the lease; the replica is alive all along.
  now += 2 * LEASE_MS;
  await until('the first replica still holds its claim', async () => {
    const { rows } = await db.query('SELECT updated_at FROM external_refs WHERE kind = $1 AND key = $2', [
      'creating',
      'e1/build#check_run',
    ]);
    return Number(rows[0]?.updated_at) >= now || undefined;
  });

  const second = context(
    'b',
    standIn(undefined, created, 'b', () => {}),
  );
  await syncCheckRuns(second, execution, url);
  letGo();
  await first;

  assert.deepEqual(created, ['Sluice: build by a'], 'one check run for the stage');
  assert.equal(second.claimedElsewhere.length, 1, 'the second replica leaves it to the first, and looks again later');
  assert.equal((await store.getRef('check_run', 'e1/build'))?.id, 1);
});
