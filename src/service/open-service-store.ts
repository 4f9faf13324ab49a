/**
 * The service's store: SQLite in the data directory (locked, so one
 * process owns it), or PostgreSQL. A full disk or a PostgreSQL that is
 * down is waited out, with 503 answered on the port meanwhile.
 */
import { resolve } from 'node:path';
import type { Settings } from '../config/read-settings.ts';
import { openStore } from '../store/open-store.ts';
import type { Store } from '../store/store.ts';
import { openStoreWhenSpace } from '../web/open-store-when-space.ts';

/** What fills up, for the operator: the data directory, or PostgreSQL's disk. */
export function stateDir(settings: Settings): string {
  return settings.databaseUrl ? 'PostgreSQL' : resolve(settings.dataDir);
}

export function openServiceStore(settings: Settings, address: string, log: (line: string) => void): Promise<Store> {
  return openStoreWhenSpace(() => openStore({ dataDir: settings.dataDir, databaseUrl: settings.databaseUrl }), {
    dir: stateDir(settings),
    port: settings.port,
    host: address,
    log,
  });
}
