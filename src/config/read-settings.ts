/**
 * The operator's settings from the environment (or `.env`, loaded by the
 * caller), checked once at start-up: a wrong value stops Sluice with a
 * message that names the variable and says how to fix it.
 */
import { resolve } from 'node:path';

export interface Settings {
  port: number;
  dataDir: string;
  databaseUrl?: string;
  /** Path of the operator's server config (`SLUICE_CONFIG`). */
  serverConfig?: string;
}

export class SettingsError extends Error {
  readonly code = 'INVALID_SETTINGS';
  constructor(message: string) {
    super(message);
    this.name = 'SettingsError';
  }
}

export function readSettings(env: NodeJS.ProcessEnv): Settings {
  const port = env.PORT === undefined || env.PORT === '' ? 3000 : Number(env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new SettingsError(`PORT must be a port number from 0 to 65535, not "${env.PORT}".`);
  }
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new SettingsError('DATABASE_URL must be a PostgreSQL URL such as postgres://sluice:secret@db.internal:5432/sluice.');
  }
  return {
    port,
    dataDir: resolve(env.SLUICE_DATA_DIR || 'data'),
    databaseUrl,
    serverConfig: env.SLUICE_CONFIG || undefined,
  };
}
