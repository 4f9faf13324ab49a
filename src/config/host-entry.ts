/**
 * A host as the operator writes it: `local`, `[user@]address[:port]`, or
 * `{ name, address, port, user }`. Resolved against the `ssh` defaults into
 * the executor's HostRef.
 */
import type { HostRef } from '../executor/executor.ts';

export interface HostObject {
  name: string;
  address: string;
  port?: number;
  user?: string;
}

export type HostEntry = string | HostObject;

const SHORT = /^(?:(?<user>[a-z_][a-z0-9_.-]*)@)?(?<address>\[[0-9a-f:.]+\]|[A-Za-z0-9_.-]+)(?::(?<port>\d{1,5}))?$/;

/** Why a short host text cannot be used, or undefined when it can. */
export function hostTextProblem(text: string): string | undefined {
  if (text === 'local') return undefined;
  const match = SHORT.exec(text);
  if (!match?.groups)
    return `"${text}" is not a host: write an address such as build1.internal, deploy@10.0.1.11:2222, or local`;
  const port = match.groups.port === undefined ? undefined : Number(match.groups.port);
  if (port !== undefined && (port < 1 || port > 65535))
    return `port ${port} of "${text}" is not a port number (1 to 65535)`;
  return undefined;
}

export function toHostRef(entry: HostEntry, defaults: { user?: string; port?: number }): HostRef {
  if (typeof entry !== 'string') {
    return {
      name: entry.name,
      address: entry.address,
      port: entry.port ?? defaults.port ?? 22,
      user: entry.user ?? defaults.user,
    };
  }
  if (entry === 'local') return { name: 'local', address: 'local' };
  const groups = SHORT.exec(entry)?.groups;
  // Cannot happen on a loaded config: its schema refuses such text with the same words, at its line.
  if (!groups?.address) throw new Error(hostTextProblem(entry));
  const address = groups.address.replace(/^\[|\]$/g, '');
  return {
    name: address,
    address,
    port: groups.port === undefined ? (defaults.port ?? 22) : Number(groups.port),
    user: groups.user ?? defaults.user,
  };
}
