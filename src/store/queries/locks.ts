/** Queries on `locks`: named leases with fencing tokens. Run inside a transaction. */
import type { Db, DatabaseKind, LocksTable } from '../database.ts';
import type { LockState } from '../store.ts';

function toState(row: Omit<LocksTable, 'released'>): LockState {
  return {
    name: row.name,
    owner: row.owner,
    reason: row.reason,
    token: Number(row.token),
    acquiredAt: Number(row.acquired_at),
    expiresAt: row.expires_at === null ? null : Number(row.expires_at),
  };
}

async function selectLock(db: Db, kind: DatabaseKind, name: string) {
  const query = db.selectFrom('locks').selectAll().where('name', '=', name);
  return (kind === 'postgres' ? query.forUpdate() : query).executeTakeFirst();
}

/** A lock nobody holds: released, or its lease ran out. */
function isFree(row: { released: number; expires_at: number | null } | undefined, now: number): boolean {
  return !row || row.released === 1 || (row.expires_at !== null && Number(row.expires_at) <= now);
}

export async function acquireLock(
  db: Db,
  kind: DatabaseKind,
  input: { name: string; owner: string; reason: string; ttlMs: number | null; now: number },
): Promise<{ ok: true; lock: LockState } | { ok: false; held: LockState }> {
  const row = await selectLock(db, kind, input.name);
  if (row && !isFree(row, input.now) && row.owner !== input.owner) return { ok: false, held: toState(row) };
  const next = {
    name: input.name,
    owner: input.owner,
    reason: input.reason,
    token: Number(row?.token ?? 0) + 1,
    acquired_at: input.now,
    expires_at: input.ttlMs === null ? null : input.now + input.ttlMs,
    released: 0,
  };
  if (row) await db.updateTable('locks').set(next).where('name', '=', input.name).execute();
  else await db.insertInto('locks').values(next).execute();
  return { ok: true, lock: toState(next) };
}

/** Extends the lease if `token` still holds the lock; false when it was lost. */
export async function renewLock(
  db: Db,
  kind: DatabaseKind,
  name: string,
  token: number,
  ttlMs: number,
  now: number,
): Promise<boolean> {
  const row = await selectLock(db, kind, name);
  if (!row || Number(row.token) !== token || isFree(row, now)) return false;
  await db
    .updateTable('locks')
    .set({ expires_at: now + ttlMs })
    .where('name', '=', name)
    .execute();
  return true;
}

/** Releases the lock if `token` (or, without one, `owner`) holds it; true when it did. */
export async function releaseLock(
  db: Db,
  kind: DatabaseKind,
  name: string,
  holder: { token?: number; owner?: string },
  now: number,
): Promise<boolean> {
  const row = await selectLock(db, kind, name);
  if (!row || isFree(row, now)) return false;
  if (holder.token !== undefined && Number(row.token) !== holder.token) return false;
  if (holder.owner !== undefined && row.owner !== holder.owner) return false;
  await db.updateTable('locks').set({ released: 1 }).where('name', '=', name).execute();
  return true;
}

export async function findLock(db: Db, name: string, now: number): Promise<LockState | undefined> {
  const row = await db.selectFrom('locks').selectAll().where('name', '=', name).executeTakeFirst();
  return row && !isFree(row, now) ? toState(row) : undefined;
}

export async function releaseLeases(db: Db, now: number): Promise<LockState[]> {
  const rows = await db
    .selectFrom('locks')
    .selectAll()
    .where('released', '=', 0)
    .where('expires_at', 'is not', null)
    .where('expires_at', '>', now)
    .execute();
  if (rows.length > 0)
    await db
      .updateTable('locks')
      .set({ released: 1 })
      .where(
        'name',
        'in',
        rows.map((row) => row.name),
      )
      .execute();
  return rows.map(toState);
}
