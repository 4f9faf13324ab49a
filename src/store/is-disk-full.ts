/**
 * Whether an error means the disk (of the data directory or of PostgreSQL)
 * is full: the one store failure that clears up by itself once someone
 * frees space, so Sluice waits it out instead of exiting (PRODUCT R3).
 */
const SQLITE_FULL = 13;
// SQLITE_IOERR_SHMSIZE: the shared memory of a WAL database cannot grow, as on a full tmpfs.
const SQLITE_IOERR_SHMSIZE = 4874;
const POSTGRES_DISK_FULL = '53100';

export function isDiskFull(error: unknown): boolean {
  for (let cause = error, depth = 0; cause && depth < 5; cause = (cause as { cause?: unknown }).cause, depth++) {
    const { code, errcode, message } = cause as { code?: unknown; errcode?: unknown; message?: unknown };
    if (code === 'ENOSPC' || code === POSTGRES_DISK_FULL) return true;
    // Extended result codes keep the primary code in the low byte.
    if (typeof errcode === 'number' && ((errcode & 0xff) === SQLITE_FULL || errcode === SQLITE_IOERR_SHMSIZE))
      return true;
    if (typeof message === 'string' && /database or disk is full|no space left on device/i.test(message)) return true;
  }
  return false;
}
