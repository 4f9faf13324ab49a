/**
 * Whether a repository's build or command action may run on a host group.
 * A repository never widens what the operator set, and a host group must
 * not be a way around an environment or onto the Sluice machine:
 *  - a group in the `{ hosts, repos }` form is open only to its repos;
 *  - a group holding `local` (the Sluice machine, with Sluice's settings,
 *    GitHub App key and SSH key) only to the repos of `local.repos`;
 *  - a group holding a host of an environment (the environment's own group,
 *    or another group naming the same address and port, however spelt) only to the repos of
 *    that environment's `allow_commands_from`, since there a repository's
 *    commands would skip the environment's repos and approval rules.
 * `local` is judged by the `local` grant alone: an environment on the Sluice
 * machine is no less exposed than the machine itself.
 * The same rule runs when a pipeline is checked and when an action starts.
 */
import type { HostRef } from '../executor/executor.ts';
import { hostIdentity } from './host-identity.ts';
import { matchesRepo } from './match-repo.ts';
import { groupEntries, resolveHosts, toHostRefs } from './resolve-hosts.ts';
import { ServerRefusal } from './server-refusal.ts';
import type { ServerConfig } from './server.schema.ts';

/** Why `repo` may not run on host group `group`, or undefined when it may (or the group is not defined). */
export function checkHostAccess(server: ServerConfig, repo: string, group: string): string | undefined {
  const config = server.hosts?.[group];
  const entries = groupEntries(server, group);
  if (!config || !entries) return undefined;
  const allowed = (patterns: readonly string[] | undefined) =>
    (patterns ?? []).some((pattern) => matchesRepo(pattern, repo));

  if (!Array.isArray(config) && config.repos && !allowed(config.repos)) {
    return `${repo} may not use host group "${group}": the server config allows ${config.repos.join(', ')}`;
  }
  const hosts = toHostRefs(server, entries);
  if (hosts.some(isLocal) && !allowed(server.local?.repos)) {
    return `host group "${group}" holds local, the Sluice machine, which keeps Sluice's keys; ${repo} may run there only if the operator adds it to local.repos in the server config`;
  }
  for (const [name, env] of Object.entries(server.environments ?? {})) {
    const envEntries = typeof env.hosts === 'string' ? (groupEntries(server, env.hosts) ?? []) : env.hosts;
    const envKeys = new Set(
      toHostRefs(server, envEntries)
        .filter((h) => !isLocal(h))
        .map(hostKey),
    );
    const shared = hosts.filter((h) => !isLocal(h) && envKeys.has(hostKey(h)));
    if (shared.length === 0 || allowed(env.allow_commands_from)) continue;
    return `host group "${group}" holds ${shared.map((h) => h.name).join(', ')} of environment "${name}", which takes only deploys (gated by its repos and approval rules); ${repo} may run build and command actions there only if the operator adds it to environments.${name}.allow_commands_from`;
  }
  return undefined;
}

/**
 * Why `repo` may not deploy to `environment` because the environment holds
 * `local`: its hooks would run on the Sluice machine, which is a grant of
 * its own (`local.repos`) whatever the environment's `repos` say.
 */
export function checkEnvironmentLocal(server: ServerConfig, repo: string, environment: string): string | undefined {
  const env = server.environments?.[environment];
  if (!env) return undefined;
  const entries = typeof env.hosts === 'string' ? (groupEntries(server, env.hosts) ?? []) : env.hosts;
  if (!toHostRefs(server, entries).some(isLocal)) return undefined;
  if ((server.local?.repos ?? []).some((pattern) => matchesRepo(pattern, repo))) return undefined;
  return `environment "${environment}" holds local, the Sluice machine, which keeps Sluice's keys, and its deploy hooks would run there; ${repo} may deploy to it only if the operator adds it to local.repos in the server config`;
}

/** The hosts a repository's action runs on; throws with the reason when it may not. */
export function hostsFor(server: ServerConfig | undefined, repo: string, group: string): HostRef[] {
  const hosts = resolveHosts(server, group);
  const problem = server && checkHostAccess(server, repo, group);
  if (problem) throw new ServerRefusal('NOT_PERMITTED', problem);
  return hosts;
}

function isLocal(host: HostRef): boolean {
  return host.address === 'local';
}

/** Every spelling of one SSH host is the same key (host-identity). */
function hostKey(host: HostRef): string {
  return hostIdentity(host.address, host.port);
}
