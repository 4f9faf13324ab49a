/**
 * The SQLite data directory belongs to one process (PRODUCT R1), and a
 * process killed at any moment leaves it consistent and free (PRODUCT R3).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DatabaseSync } from 'node:sqlite';
import { describe, it, type TestContext } from 'node:test';
import { openStore } from '../../src/store/open-store.ts';
import { StoreError } from '../../src/store/store.ts';

const holdDataDir = join(import.meta.dirname, 'fixtures', 'hold-data-dir.ts');

interface Child {
  process: ChildProcessWithoutNullStreams;
  lines: string[];
  /** Resolves when a line matching `pattern` has been printed. */
  waitFor(pattern: RegExp): Promise<string>;
  exited: Promise<number | null>;
}

function start(t: TestContext, dataDir: string, ...args: string[]): Child {
  const child = spawn(process.execPath, [holdDataDir, dataDir, ...args]);
  t.after(() => child.kill('SIGKILL'));
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    for (const wake of waiters.splice(0)) wake();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const waitFor = async (pattern: RegExp) => {
    for (;;) {
      const found = lines.find((l) => pattern.test(l));
      if (found) return found;
      if (child.exitCode !== null)
        throw new Error(`the child exited (${child.exitCode}) without printing ${pattern}: ${lines.join('\n')}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  };
  return { process: child, lines, waitFor, exited };
}

function freshDataDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-data-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('the SQLite data directory', () => {
  it('refuses a second process, saying which directory, which pid holds it and what to do (R1)', async (t) => {
    const dataDir = freshDataDir(t);
    const holder = start(t, dataDir);
    await holder.waitFor(/^opened/);

    const second = start(t, dataDir);
    assert.equal(await second.exited, 3);
    const refusal = JSON.parse(second.lines[0] ?? '{}') as { code: string; message: string };
    assert.equal(refusal.code, 'DATA_DIR_LOCKED');
    assert.ok(refusal.message.includes(`data directory ${dataDir} `), refusal.message);
    assert.match(refusal.message, new RegExp(`pid ${holder.process.pid}\\b`));
    assert.match(refusal.message, /stop that process.*or give this one another --data-dir \/ SLUICE_DATA_DIR/);

    await assert.rejects(
      openStore({ dataDir }),
      (error) => error instanceof StoreError && error.code === 'DATA_DIR_LOCKED',
    );
  });

  it('is free again once its holder is killed with SIGKILL', async (t) => {
    const dataDir = freshDataDir(t);
    const holder = start(t, dataDir);
    await holder.waitFor(/^opened/);
    holder.process.kill('SIGKILL');
    await holder.exited;

    const store = await openStore({ dataDir });
    t.after(() => store.close());
    assert.equal(readFileSync(join(dataDir, 'sluice.pid'), 'utf8').trim(), String(process.pid));
  });

  it('keeps every acknowledged change of a process killed mid-write, and passes an integrity check (R3)', async (t) => {
    const dataDir = freshDataDir(t);
    const writer = start(t, dataDir, '--write');
    await writer.waitFor(/^acked 20$/);
    writer.process.kill('SIGKILL');
    await writer.exited;
    const acked = writer.lines.filter((l) => l.startsWith('acked ')).map((l) => Number(l.slice('acked '.length)));

    const store = await openStore({ dataDir });
    t.after(() => store.close());
    const pipeline = await store.ensurePipeline('acme/web', '.github/sluice.yml');
    for (const seq of acked) {
      const execution = await store.getExecution(seq, pipeline);
      assert.equal(
        execution?.stages[0]?.actions[0]?.status,
        'running',
        `execution #${seq} was acknowledged as running`,
      );
    }
    await store.close();

    const db = new DatabaseSync(join(dataDir, 'sluice.db'));
    try {
      assert.deepEqual({ ...db.prepare('PRAGMA integrity_check').get() }, { integrity_check: 'ok' });
      assert.deepEqual({ ...db.prepare('PRAGMA journal_mode').get() }, { journal_mode: 'wal' });
    } finally {
      db.close();
    }
  });
});
