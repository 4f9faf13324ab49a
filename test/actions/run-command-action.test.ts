import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { runCommandAction } from '../../src/actions/run-command-action.ts';
import { buildSpec, logRecorder, makeBuildFixture, type BuildFixture } from './build-fixture.ts';

const LOCAL = { name: 'local', address: 'local' };

describe('runCommandAction on the local executor', () => {
  let fixture: BuildFixture;

  before(async () => {
    fixture = await makeBuildFixture();
  });
  after(() => fixture.remove());

  it('runs the commands in the source and produces no artifact', async () => {
    const session = await fixture.executor.open(LOCAL);
    const output = logRecorder();
    try {
      const result = await runCommandAction({
        session,
        spec: buildSpec({ run: ['cat README.md', 'echo "$GREETING"'], env: { GREETING: 'hi there' } }),
        sourceTarball: fixture.sourceTarball,
        inputs: [],
        secrets: {},
        log: output.log,
      });
      assert.deepEqual(result, { ok: true });
      assert.deepEqual(output.lines('stdout'), ['# app', 'hi there']);
      await assert.rejects(readdir(fixture.artifacts.dir), 'nothing was stored');
    } finally {
      await session.close();
    }
  });

  it('runs without a source in an empty workspace and reports a failing command', async () => {
    const session = await fixture.executor.open(LOCAL);
    const output = logRecorder();
    try {
      const result = await runCommandAction({
        session,
        spec: buildSpec({ run: ['ls -A | wc -l', 'exit 2'] }),
        inputs: [],
        secrets: {},
        log: output.log,
      });
      assert.deepEqual(result, {
        ok: false,
        code: 'command_failed',
        reason: 'command 2 of 2 "exit 2" exited with code 2',
      });
      assert.deepEqual(output.lines('stdout'), ['0']);
    } finally {
      await session.close();
    }
  });
});
