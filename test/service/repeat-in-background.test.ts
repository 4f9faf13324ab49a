import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as settle } from 'node:timers/promises';
import { repeatInBackground } from '../../src/service/repeat-in-background.ts';

test('a repeated task runs at start when asked, one run at a time, and not after a stop is announced', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const stopping = new AbortController();
  let runs = 0;
  const finish: Array<() => void> = [];
  const errors: unknown[] = [];
  const pruner = repeatInBackground({
    task: async () => {
      runs += 1;
      await new Promise<void>((done) => finish.push(done));
      return runs;
    },
    everyMs: 60_000,
    atStart: true,
    onError: (error) => errors.push(error),
    signal: stopping.signal,
  });
  await pruner.start?.();
  await settle();
  assert.equal(runs, 1, 'the run at start');

  const asked = pruner.runNow();
  t.mock.timers.tick(60_000);
  await settle();
  assert.equal(runs, 1, 'neither the asked run nor the timer starts while the first is in hand');
  finish.shift()!();
  await settle();
  assert.equal(runs, 2);
  finish.shift()!();
  assert.equal(await asked, 2, 'the asked run answers with its own result');
  await settle();
  assert.equal(runs, 3, "the timer's run comes after");

  stopping.abort();
  t.mock.timers.tick(600_000);
  finish.shift()!();
  await pruner.stop?.({ graceOver: 0 });
  assert.equal(runs, 3, 'no run once the stop is announced');
  assert.deepEqual(errors, []);
});
