/**
 * Which failures to open PostgreSQL Sluice waits out at start-up (the
 * server not there yet) and which fail the start with what to fix (a
 * database that does not exist), told from a real server's answers.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { openStore } from '../../src/store/open-store.ts';
import { isDatabaseDown } from '../../src/store/is-database-down.ts';

let postgres: TestPostgres;

before(async () => {
  postgres = await startPostgres();
});

after(async () => {
  await postgres?.stop();
});

async function failureOf(url: string): Promise<unknown> {
  try {
    const store = await openStore({ dataDir: '.', databaseUrl: url });
    await store.close();
  } catch (error) {
    return error;
  }
  assert.fail(`${url} opened`);
}

test('a database that does not exist fails the start: it will not appear by itself', async () => {
  const url = new URL(postgres.url);
  url.pathname = '/no_such_database';
  const error = await failureOf(url.toString());
  assert.match(String(error), /no_such_database.*does not exist/);
  assert.equal(isDatabaseDown(error), false);
});

test('a server that is down is waited for', async () => {
  await postgres.halt();
  try {
    const error = await failureOf(postgres.url);
    assert.match(String(error), /ECONNREFUSED/);
    assert.equal(isDatabaseDown(error), true);
  } finally {
    await postgres.resume();
  }
});
