/**
 * The rules of a server config that a schema cannot say: host groups that
 * exist, SSH settings wherever a host is reached over SSH, host names that
 * drain commands can tell apart, rolling plans that can run, drain
 * always paired with undrain, and environment names GitHub can tell apart
 * (it compares them without case: "Production" and "production" would be
 * one environment there, with one Deployment history).
 */
import { planBatches, RolloutPlanError } from '../deploy/plan-batches.ts';
import { closestWord } from './closest-word.ts';
import type { RuleProblem } from './check-pipeline.ts';
import { environmentTarget } from './deploy-target.ts';
import { groupEntries } from './resolve-hosts.ts';
import type { ServerConfig } from './server.schema.ts';

export function checkServer(server: ServerConfig): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const groups = Object.keys(server.hosts ?? {});
  const usesSsh = (entries: unknown[]) => entries.some((entry) => entry !== 'local');

  let sshNeededAt: RuleProblem['path'] | undefined;
  for (const name of groups) {
    if (usesSsh(groupEntries(server, name) ?? [])) sshNeededAt ??= ['hosts', name];
  }
  const envNames = new Map<string, string>();
  for (const [name, env] of Object.entries(server.environments ?? {})) {
    const path = ['environments', name];
    const alike = envNames.get(name.toLowerCase());
    if (alike !== undefined)
      problems.push({
        path,
        at: 'key',
        message: `environment "${name}" is "${alike}" to GitHub, which compares environment names without case; give it a name of its own or merge the two`,
      });
    else envNames.set(name.toLowerCase(), name);
    if (typeof env.hosts === 'string') {
      if (!groups.includes(env.hosts)) {
        const guess = closestWord(env.hosts, groups);
        problems.push({
          path: [...path, 'hosts'],
          at: 'value',
          message: `host group "${env.hosts}" is not defined under hosts${guess ? ` (did you mean "${guess}"?)` : ''}`,
        });
        continue;
      }
    } else if (usesSsh(env.hosts)) {
      sshNeededAt ??= [...path, 'hosts'];
    }
    if (env.load_balancer && (env.drain || env.undrain)) {
      problems.push({
        path: [...path, 'load_balancer'],
        at: 'key',
        message: 'use either load_balancer or drain/undrain commands, not both',
      });
    }
    if (env.drain && !env.undrain)
      problems.push({
        path: [...path, 'drain'],
        at: 'key',
        message: 'drain without undrain would leave every host out of the load balancer after a deploy; add undrain',
      });
    if (env.undrain && !env.drain)
      problems.push({
        path: [...path, 'undrain'],
        at: 'key',
        message: 'undrain without drain: add the drain command that takes {host} out of the load balancer',
      });

    const target = environmentTarget(server, name);
    const seen = new Set<string>();
    target.hosts.forEach((host, i) => {
      if (seen.has(host.name)) {
        problems.push({
          path: typeof env.hosts === 'string' ? [...path, 'hosts'] : [...path, 'hosts', i],
          at: 'value',
          message: `two hosts of "${name}" are named "${host.name}"; give each a name of its own ({ name, address })`,
        });
      }
      seen.add(host.name);
    });
    try {
      planBatches(target.hosts, { batch: target.batch, minHealthy: target.minHealthy, environment: name });
    } catch (error) {
      if (!(error instanceof RolloutPlanError)) throw error;
      problems.push({
        path: env.rolling ? [...path, 'rolling'] : [...path, 'hosts'],
        at: 'key',
        message: error.message,
      });
    }
  }
  if (sshNeededAt && !server.ssh) {
    problems.push({
      path: sshNeededAt,
      at: 'key',
      message: 'hosts reached over SSH need an `ssh` section with user, key and known_hosts',
    });
  }
  return problems;
}
