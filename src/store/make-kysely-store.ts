/**
 * The `Store` over Kysely: one set of queries for SQLite and PostgreSQL, a
 * concern per file, all on one database handle. Everything that writes more
 * than one row runs in a transaction (the caller's, inside `transaction`).
 */
import { PostgresArtifactBlobs } from './artifact-blobs.ts';
import type { DatabaseKind, Db } from './database.ts';
import { makeArtifactRecordStore } from './make-artifact-record-store.ts';
import { makeClaimStore } from './make-claim-store.ts';
import { makeExecutionStore } from './make-execution-store.ts';
import { makeInboxStore } from './make-inbox-store.ts';
import { makeLogStore } from './make-log-store.ts';
import { makeRefStore } from './make-ref-store.ts';
import type { Store, StoreConcerns } from './store.ts';

/** `onClose` runs after the database is closed (e.g. to release the data directory). */
export function makeKyselyStore(db: Db, kind: DatabaseKind, onClose: () => Promise<void> = async () => {}): Store {
  let closed: Promise<void> | undefined;
  return {
    kind,
    ...(kind === 'postgres' && { blobs: new PostgresArtifactBlobs(db) }),
    ...makeConcerns(db, kind),
    transaction: (work) => db.transaction().execute((trx) => work(makeConcerns(trx, kind))),
    /** Closes the database (and releases what `onClose` releases); later calls wait for the first. */
    close(): Promise<void> {
      closed ??= (async () => {
        try {
          await db.destroy();
        } finally {
          await onClose();
        }
      })();
      return closed;
    },
  };
}

function makeConcerns(db: Db, kind: DatabaseKind): StoreConcerns {
  return {
    ...makeExecutionStore(db, kind),
    ...makeClaimStore(db, kind),
    ...makeInboxStore(db, kind),
    ...makeLogStore(db, kind),
    ...makeArtifactRecordStore(db),
    ...makeRefStore(db),
  };
}
