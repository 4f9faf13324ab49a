/**
 * An environment of the server config, resolved for a deploy: its hosts,
 * path, rolling plan, drain commands — if the repository may deploy there.
 */
import type { DeployTarget } from '../deploy/run-deploy-action.ts';
import { checkEnvironmentLocal } from './check-host-access.ts';
import { matchesRepo } from './match-repo.ts';
import { parseDuration } from './parse-duration.ts';
import { resolveHosts, toHostRefs } from './resolve-hosts.ts';
import type { ServerConfig } from './server.schema.ts';
import { ServerRefusal } from './server-refusal.ts';

export const DEFAULT_KEEP_RELEASES = 5;

export function deployTarget(server: ServerConfig | undefined, environment: string, repo: string): DeployTarget {
  const target = environmentTarget(server, environment);
  const allowed = server?.environments?.[environment]?.repos;
  if (allowed && !allowed.some((pattern) => matchesRepo(pattern, repo))) {
    throw new ServerRefusal(
      'NOT_PERMITTED',
      `${repo} may not deploy to "${environment}": the server config allows ${allowed.join(', ')}`,
    );
  }
  const onLocal = server && checkEnvironmentLocal(server, repo, environment);
  if (onLocal) throw new ServerRefusal('NOT_PERMITTED', onLocal);
  return target;
}

/** The environment as configured, whichever repository asks. */
export function environmentTarget(server: ServerConfig | undefined, environment: string): DeployTarget {
  const env = server?.environments?.[environment];
  if (!server || !env) {
    throw new ServerRefusal(
      'NOT_IN_SERVER_CONFIG',
      server
        ? `environment "${environment}" is not defined in the server config`
        : `environment "${environment}" needs a server config that defines it; pass --server <config.yml> (or set SLUICE_CONFIG)`,
    );
  }
  return {
    environment,
    hosts: typeof env.hosts === 'string' ? resolveHosts(server, env.hosts) : toHostRefs(server, env.hosts),
    path: env.path.replace(/\/+$/, ''),
    batch: (env.rolling?.batch ?? 1) as DeployTarget['batch'],
    minHealthy: (env.rolling?.min_healthy ?? 0) as DeployTarget['minHealthy'],
    ...(env.drain ? { drain: env.drain } : {}),
    ...(env.undrain ? { undrain: env.undrain } : {}),
    ...(env.load_balancer?.haproxy
      ? {
          haproxy: {
            socket: env.load_balancer.haproxy.socket,
            backend: env.load_balancer.haproxy.backend,
            timeoutMs: parseDuration(env.load_balancer.haproxy.timeout ?? '60s') ?? 60_000,
          },
        }
      : {}),
    keepReleases: env.keep_releases ?? DEFAULT_KEEP_RELEASES,
  };
}
