/**
 * One process per data directory (PRODUCT R1). The lock is an exclusive
 * SQLite lock on `<dataDir>/sluice.lock`, i.e. an fcntl lock the kernel drops
 * the moment the holder dies — even by kill -9 — so a crash never leaves a
 * stale lock behind. `sluice.pid` only tells the next process whom to blame.
 *
 * fcntl locks belong to the process and vanish when it closes *any*
 * descriptor of the file, so nothing in Sluice may open `sluice.lock` other
 * than through this module.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { isDiskFull } from './is-disk-full.ts';
import { StoreError } from './store.ts';

/** A held data directory; `release` gives it up (process exit does too). */
export interface DataDirLock {
  release(): void;
}

const SQLITE_BUSY = 5;

/** Takes the data directory for this process, or throws `DATA_DIR_LOCKED` naming the holder. */
export function lockDataDir(dataDir: string): DataDirLock {
  const dir = resolve(dataDir);
  const pidFile = join(dir, 'sluice.pid');
  // timeout 0: a held lock is an answer, not something to wait for.
  const lock = new DatabaseSync(join(dir, 'sluice.lock'), { timeout: 0 });
  try {
    // In exclusive locking mode SQLite keeps every lock it takes until the
    // connection closes; the write below takes the EXCLUSIVE one, which no
    // other connection in any process can share.
    lock.exec('PRAGMA locking_mode = EXCLUSIVE');
    lock.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    lock.close();
    if (!isBusy(error)) throw error;
    throw new StoreError('DATA_DIR_LOCKED', describeHolder(dir, readPid(pidFile)), { cause: error });
  }
  try {
    lock.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL)');
    lock.exec('DELETE FROM holder');
    lock.prepare('INSERT INTO holder (pid) VALUES (?)').run(process.pid);
    lock.exec('COMMIT');
  } catch (error) {
    // On a full disk the write fails, but the lock is taken and (exclusive mode) kept: the data directory is ours.
    if (!isDiskFull(error)) {
      lock.close();
      throw error;
    }
    try {
      lock.exec('ROLLBACK');
    } catch {
      // SQLite rolled it back by itself.
    }
  }
  try {
    writeFileSync(pidFile, `${process.pid}\n`);
  } catch (error) {
    // Only a hint for whoever finds the directory locked; not worth refusing to start over.
    if (!isDiskFull(error)) {
      lock.close();
      throw error;
    }
  }
  return {
    release() {
      if (readPid(pidFile) === process.pid) rmSync(pidFile, { force: true });
      lock.close();
    },
  };
}

function describeHolder(dir: string, pid: number | undefined): string {
  const who = pid === undefined ? 'another process' : `another process (pid ${pid})`;
  const stop = pid === undefined ? 'stop that process' : `stop that process (kill ${pid})`;
  return (
    `The data directory ${dir} is in use by ${who}; only one Sluice process may use a data directory. ` +
    `To start this one, ${stop}, or give this one another --data-dir / SLUICE_DATA_DIR.`
  );
}

function readPid(pidFile: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(pidFile, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isBusy(error: unknown): boolean {
  const code = (error as { errcode?: unknown }).errcode;
  // Extended result codes (e.g. SQLITE_BUSY_SNAPSHOT) keep the primary code in the low byte.
  return typeof code === 'number' && (code & 0xff) === SQLITE_BUSY;
}
