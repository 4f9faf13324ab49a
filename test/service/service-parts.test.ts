import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ServiceParts, type ServicePart } from '../../src/service/service-part.ts';

/** A part that writes what it does into `said`. */
function part(name: string, said: string[], fail?: Error): ServicePart {
  return {
    async start() {
      said.push(`start ${name}`);
      if (fail) throw fail;
    },
    async stop(request) {
      said.push(`stop ${name}${request.cancel ? ` (${request.cancel})` : ''}`);
    },
  };
}

describe('the service parts', () => {
  test('start in order and stop in reverse, after the stop is announced', async () => {
    const said: string[] = [];
    const parts = new ServiceParts([part('store', said), part('runner', said), part('http', said)], (request) =>
      said.push(`announce ${request.cancel}`),
    );
    await parts.start();
    await parts.stop({ cancel: 'deploy day is over', graceOver: 0 });
    assert.deepEqual(said, [
      'start store',
      'start runner',
      'start http',
      'announce deploy day is over',
      'stop http (deploy day is over)',
      'stop runner (deploy day is over)',
      'stop store (deploy day is over)',
    ]);
  });

  test('a stop asked for twice stops each part once', async () => {
    const said: string[] = [];
    const parts = new ServiceParts([part('store', said)], () => said.push('announce'));
    await parts.start();
    const first = parts.stop({ graceOver: 0 });
    assert.equal(parts.stop({ cancel: 'again', graceOver: 0 }), first);
    await first;
    assert.deepEqual(said, ['start store', 'announce', 'stop store']);
  });

  test('a part that fails to start stops those started before it, and its error goes on', async () => {
    const said: string[] = [];
    const refused = new Error('PORT 3000 is in use');
    const parts = new ServiceParts(
      [
        { stop: () => void said.push('stop store') },
        part('runner', said),
        part('http', said, refused),
        part('inbox', said),
      ],
      () => said.push('announce'),
    );
    await assert.rejects(parts.start(), refused);
    assert.deepEqual(said, ['start runner', 'start http', 'announce', 'stop runner', 'stop store']);
  });

  test('idle waits, from what takes work in to what reports it, until no part has any left', async () => {
    const said: string[] = [];
    // The inbox hands the runner work, the runner the reporter; a delivery arrives while the first report goes out.
    let inboxWork = 1;
    let arrivals = 1;
    let runnerWork = 0;
    let reporterWork = 0;
    const reporter: ServicePart = {
      idle: async () => {
        said.push(`reporter idle (${reporterWork})`);
        reporterWork = 0;
        if (arrivals-- > 0) inboxWork += 1;
      },
      get busy() {
        return reporterWork > 0;
      },
    };
    const runner: ServicePart = {
      idle: async () => {
        said.push(`runner idle (${runnerWork})`);
        if (runnerWork > 0) reporterWork += 1;
        runnerWork = 0;
      },
      get busy() {
        return runnerWork > 0;
      },
    };
    const inbox: ServicePart = {
      idle: async () => {
        said.push(`inbox idle (${inboxWork})`);
        if (inboxWork > 0) runnerWork += 1;
        inboxWork = 0;
      },
      get busy() {
        return inboxWork > 0;
      },
    };
    await new ServiceParts([reporter, runner, inbox], () => {}).idle();
    assert.deepEqual(said, [
      'inbox idle (1)',
      'runner idle (1)',
      'reporter idle (1)',
      'inbox idle (1)',
      'runner idle (1)',
      'reporter idle (1)',
    ]);
    assert.ok(![reporter, runner, inbox].some((p) => p.busy));
  });
});
