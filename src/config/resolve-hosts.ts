/**
 * The hosts behind a name in a pipeline: a host group of the server config,
 * or — only when Sluice runs without a server config (`sluice run` trying a
 * pipeline, where the operator is the one running it) — `local`, this
 * machine. With a server config, pipelines reach the Sluice machine only
 * through a group the operator defines (`local: [local]`) and grants
 * (`local: { repos }`), since a repository cannot add hosts; who may use a
 * group is checked by checkHostAccess.
 */
import type { HostRef } from '../executor/executor.ts';
import { toHostRef, type HostEntry } from './host-entry.ts';
import type { HostGroupConfig, ServerConfig } from './server.schema.ts';
import { ServerRefusal } from './server-refusal.ts';

export const LOCAL_HOST: HostRef = { name: 'local', address: 'local' };

export function resolveHosts(server: ServerConfig | undefined, group: string): HostRef[] {
  if (!server) {
    if (group === 'local') return [LOCAL_HOST];
    throw new ServerRefusal(
      'NOT_IN_SERVER_CONFIG',
      `host group "${group}" needs a server config that defines it; pass --server <config.yml> (or set SLUICE_CONFIG), or use host "local"`,
    );
  }
  const entries = groupEntries(server, group);
  if (!entries) {
    const known = Object.keys(server.hosts ?? {});
    throw new ServerRefusal(
      'NOT_IN_SERVER_CONFIG',
      `host group "${group}" is not defined in the server config${known.length > 0 ? ` (it defines: ${known.join(', ')})` : ''}`,
    );
  }
  return toHostRefs(server, entries);
}

export function toHostRefs(server: ServerConfig, entries: HostEntry[]): HostRef[] {
  return entries.map((entry) => toHostRef(entry, { user: server.ssh?.user, port: server.ssh?.port }));
}

/** The hosts of a group, in either of its forms (a list, or { hosts, repos }). */
export function groupEntries(server: ServerConfig, group: string): HostEntry[] | undefined {
  const config: HostGroupConfig | undefined = server.hosts?.[group];
  if (!config) return undefined;
  return Array.isArray(config) ? config : config.hosts;
}
