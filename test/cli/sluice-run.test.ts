import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { makeCheckout, type TempCheckout } from '../helpers/temp-checkout.ts';
import { runSluice, startSluice, waitForOutput } from '../helpers/run-sluice.ts';
import { buildOf, pipelineFixture } from '../helpers/pipeline-fixture.ts';

/** The seed's pipeline shape, on this machine: build → check → approval → release into `scratch`. */
function pipelineFile(scratch: string, build?: string[]): string {
  return pipelineFixture('build-check-release', (pipeline) => {
    if (build) buildOf(pipeline).run = build;
    const release = pipeline.stages.at(-1)!.actions.find((action) => action.name === 'release')!;
    release.command!.run = [`cp dist/app.txt ${scratch}/released.txt`];
  });
}

let checkout: TempCheckout | undefined;
afterEach(() => checkout?.remove());

function setUp(build?: string[]): TempCheckout {
  checkout = makeCheckout({ VERSION: '1.0\n' });
  checkout.write('.github/sluice.yml', pipelineFile(checkout.scratch, build));
  checkout.commit('add pipeline');
  return checkout;
}

const dataDirOf = (c: TempCheckout) => join(c.scratch, 'data');
const sluice = (c: TempCheckout, ...args: string[]) => runSluice([...args, '--data-dir', dataDirOf(c)], { cwd: c.dir });

async function statusJson(c: TempCheckout, execution: string) {
  const result = await sluice(c, 'status', execution, '--json');
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout);
}

describe('sluice run', () => {
  test('runs the pipeline of a checkout stage by stage and keeps the artifact by its sha256', async () => {
    const c = setUp();
    const result = await sluice(c, 'run', '--approve', 'yes');
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const out = result.stdout;
    const order = [
      '▶ build running',
      'build/compile │ compiled',
      '✓ build succeeded',
      'check/smoke │ built 1.0',
      '✓ production/approve succeeded',
      '✓ Execution #1 succeeded',
    ];
    let at = -1;
    for (const line of order) {
      const next = out.indexOf(line, at + 1);
      assert.ok(next > at, `expected "${line}" after position ${at} in:\n${out}`);
      at = next;
    }
    assert.equal(readFileSync(join(c.scratch, 'released.txt'), 'utf8'), 'built 1.0\n');

    const sha = /artifact app sha256:([0-9a-f]{64})/.exec(out)?.[1];
    assert.ok(sha, 'the build log names the artifact digest');
    const stored = readFileSync(join(dataDirOf(c), 'artifacts', `${sha}.tar.gz`));
    assert.equal(createHash('sha256').update(stored).digest('hex'), sha);

    const status = await statusJson(c, '1');
    assert.equal(status.status, 'succeeded');
    assert.deepEqual(
      status.stages.map((s: { status: string }) => s.status),
      ['succeeded', 'succeeded', 'succeeded'],
    );
    assert.ok(
      status.history.some((h: { actor: string; to: string }) => h.to === 'succeeded' && h.actor.startsWith('cli:')),
    );
  });

  test('a rejected approval fails the execution and releases nothing', async () => {
    const c = setUp();
    const result = await sluice(c, 'run', '--approve', 'no');
    assert.equal(result.code, 1);
    assert.match(
      result.stdout,
      /✗ Execution #1 failed after .*: stage "production" failed: action "approve" failed: rejected by cli:/,
    );
    assert.equal(existsSync(join(c.scratch, 'released.txt')), false);
  });

  test('without an answer it stops at the gate, and `sluice approve` carries it on', async () => {
    const c = setUp();
    const first = await sluice(c, 'run');
    assert.equal(first.code, 1);
    assert.match(
      first.stdout,
      /Execution #1 waits for approval of production\/approve\. Decide with `sluice approve 1`/,
    );
    assert.equal(existsSync(join(c.scratch, 'released.txt')), false);
    const approved = await sluice(c, 'approve', '1');
    assert.equal(approved.code, 0, approved.stdout + approved.stderr);
    assert.match(approved.stdout, /✓ Execution #1 succeeded/);
    assert.equal(readFileSync(join(c.scratch, 'released.txt'), 'utf8'), 'built 1.0\n');
  });

  test('a failed build halts the execution, and retry runs only that stage onward', async () => {
    const c = (checkout = makeCheckout({ VERSION: '1.0\n' }));
    const flag = join(c.scratch, 'fixed');
    c.write(
      '.github/sluice.yml',
      pipelineFile(c.scratch, [
        'mkdir -p dist',
        `test -f ${flag} || { echo "flaky test failed" >&2; exit 3; }`,
        'echo ok > dist/app.txt',
      ]),
    );
    c.commit('pipeline');
    const failed = await sluice(c, 'run', '--approve', 'yes');
    assert.equal(failed.code, 1);
    assert.match(failed.stdout, /build\/compile │ flaky test failed/);
    assert.match(failed.stdout, /✗ Execution #1 failed .*command 2 of 3 .* exited with code 3/);
    assert.doesNotMatch(failed.stdout, /check\/smoke/);

    writeFileSync(flag, '');
    const retried = await sluice(c, 'retry', '1', 'build', '--approve', 'yes');
    assert.equal(retried.code, 0, retried.stdout + retried.stderr);
    assert.match(retried.stdout, /build\/compile running \(attempt 2\)/);
    const status = await statusJson(c, '1');
    assert.equal(status.status, 'succeeded');
    assert.equal(status.stages[0].attempt, 2);
    assert.equal(status.stages[1].attempt, 1);
  });

  test('a disabled transition holds the execution until it is enabled', async () => {
    const c = setUp();
    const disabled = await sluice(c, 'transition', 'disable', 'check', '--reason', 'smoke tests broken');
    assert.equal(disabled.code, 0, disabled.stderr);
    const held = await sluice(c, 'run', '--approve', 'yes');
    assert.equal(held.code, 1);
    assert.match(
      held.stdout,
      /waits to enter stage "check": the transition into "check" is disabled: smoke tests broken\. Enable it with `sluice transition enable check`/,
    );
    const enabled = await sluice(c, 'transition', 'enable', 'check', '--approve', 'yes');
    assert.equal(enabled.code, 0, enabled.stdout + enabled.stderr);
    assert.match(enabled.stdout, /✓ Execution #1 succeeded/);
  });

  test('after kill -9 mid-action the execution is interrupted, not running, and can be retried', async (t) => {
    const c = (checkout = makeCheckout({ VERSION: '1.0\n' }));
    const go = join(c.scratch, 'go');
    c.write(
      '.github/sluice.yml',
      pipelineFile(c.scratch, [
        'mkdir -p dist',
        `echo started; until test -f ${go}; do sleep 0.1; done`,
        'echo ok > dist/app.txt',
      ]),
    );
    c.commit('pipeline');
    const child = startSluice(['run', '--approve', 'yes', '--data-dir', dataDirOf(c)], { cwd: c.dir });
    t.after(() => {
      child.kill('SIGKILL');
      if (existsSync(c.scratch)) writeFileSync(go, ''); // lets the orphaned build command end
    });
    await waitForOutput(child, /build\/compile │ started/);

    const busy = await sluice(c, 'status');
    assert.equal(busy.code, 1);
    assert.match(
      busy.stderr,
      new RegExp(
        `is in use by another process \\(pid ${child.pid}\\); only one Sluice process may use a data directory`,
      ),
    );

    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('close', resolve));
    writeFileSync(go, '');

    const status = await statusJson(c, '1');
    assert.equal(status.status, 'interrupted');
    assert.equal(status.stages[0].status, 'interrupted');
    assert.match(status.stages[0].actions[0].reason, /Sluice stopped while it ran/);

    const retried = await sluice(c, 'retry', '1', '--approve', 'yes');
    assert.equal(retried.code, 0, retried.stdout + retried.stderr);
    assert.match(retried.stdout, /✓ Execution #1 succeeded/);
  });

  test('prunes after the run what the retention settings let go, and says so', async () => {
    const c = setUp();
    const left = join(dataDirOf(c), 'workspaces', 'sluice-ws-left-by-a-crash');
    mkdirSync(join(left, 'source'), { recursive: true });
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(left, twoHoursAgo, twoHoursAgo);
    writeFileSync(
      join(c.scratch, 'server.yml'),
      `hosts: { local: [local] }\nlocal: { repos: ["*"] }\nenvironments:\n  production: { hosts: [local], path: ${join(c.scratch, 'srv')}, approval: { slack_channel: C0123456, approvers: [U0123456] } }\nretention: { workspaces: 1h }\n`,
    );
    const result = await sluice(c, 'run', '--approve', 'yes', '--server', join(c.scratch, 'server.yml'));
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /✓ Execution #1 succeeded[\s\S]*Sluice pruned 1 abandoned workspace \(retention\)\./);
    assert.equal(existsSync(left), false);
    // The run's own history stays: it is a minute old, not a month.
    assert.equal((await statusJson(c, '1')).status, 'succeeded');
  });
});

describe('the state of the sluice command', () => {
  test('without --data-dir it lives in the user’s state directory, never in the checkout, and `status` says where', async () => {
    const c = setUp();
    const home = join(c.scratch, 'home');
    const env = { HOME: home, XDG_STATE_HOME: '' };
    const expected = join(home, '.local', 'state', 'sluice');

    const empty = await runSluice(['status'], { cwd: c.dir, env });
    assert.equal(empty.code, 0, empty.stderr);
    assert.match(
      empty.stdout,
      new RegExp(`No executions yet: Sluice keeps its state in ${expected}, and nothing is there yet`),
    );
    assert.ok(!existsSync(expected), 'looking creates nothing');
    assert.ok(!existsSync(join(c.dir, 'data')), 'nothing in the checkout');

    const run = await runSluice(['run', '--approve', 'yes'], { cwd: c.dir, env });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.ok(existsSync(join(expected, 'sluice.db')));
    assert.ok(!existsSync(join(c.dir, 'data')));
    const listed = await runSluice(['status'], { cwd: c.dir, env });
    assert.match(listed.stdout, /#1 /);
  });
});
