/**
 * The operator's `ssh.rollback_timeout` with its default: how long a
 * stopped deploy's rollback may take to put its hosts back (PRODUCT S4).
 */
import { DEFAULT_ROLLBACK_TIMEOUT_MS } from '../deploy/rolling-deploy.ts';
import { parseDuration } from './parse-duration.ts';
import type { ServerConfig } from './server.schema.ts';

export function rollbackLimitMs(server: ServerConfig | undefined): number {
  const text = server?.ssh?.rollback_timeout;
  return (text === undefined ? undefined : parseDuration(text)) ?? DEFAULT_ROLLBACK_TIMEOUT_MS;
}
