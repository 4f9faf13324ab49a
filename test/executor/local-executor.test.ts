/** What only the local executor does; what every executor does is in define-executor-suite.ts. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ExecutorError } from '../../src/executor/executor.ts';
import { LocalExecutor } from '../../src/executor/local-executor.ts';

describe('LocalExecutor', () => {
  let base: string;
  let executor: LocalExecutor;

  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'sluice-local-'));
    executor = new LocalExecutor({ baseDir: base, killGraceMs: 300 });
  });
  after(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('refuses a host that is not local', async () => {
    await assert.rejects(
      executor.open({ name: 'web1', address: '10.0.1.11' }),
      (error: unknown) => error instanceof ExecutorError && error.code === 'HOST_UNREACHABLE',
    );
  });
});
