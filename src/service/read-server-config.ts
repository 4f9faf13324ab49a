/**
 * The operator's server config for the service (SLUICE_CONFIG), or an
 * empty one without it: the app still judges pipelines against a config,
 * so no repository reaches this machine.
 */
import { formatProblem } from '../config/config-problem.ts';
import { loadServerConfig } from '../config/load-server-config.ts';
import type { ServerConfig } from '../config/server.schema.ts';
import { StartError } from './start-error.ts';

/** What the operator reads when the service runs without a server config. */
export const NO_SERVER_CONFIG =
  'No server config: SLUICE_CONFIG is not set, so Sluice knows no hosts and no environments, and every deploy fails. Write one (README, "The server config") and set SLUICE_CONFIG to its path.';

export async function readServerConfig(file: string | undefined): Promise<ServerConfig> {
  if (!file) return {};
  const result = await loadServerConfig(file);
  if (!result.ok)
    throw new StartError(
      `the server config (SLUICE_CONFIG) has problems:\n${result.problems.map(formatProblem).join('\n')}`,
    );
  return result.config;
}
