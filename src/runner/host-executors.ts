/**
 * Which executor reaches a host: `local` runs on this machine in a
 * workspace under the data directory; every other host is reached over SSH
 * with the operator's key, checked against the operator's known_hosts.
 */
import { resolve } from 'node:path';
import { parseDuration } from '../config/parse-duration.ts';
import type { ServerConfig } from '../config/server.schema.ts';
import { ExecutorError, type ExecSession, type Executor, type HostRef } from '../executor/executor.ts';
import { LocalExecutor } from '../executor/local-executor.ts';
import { SshExecutor } from '../ssh/ssh-executor.ts';

export function hostExecutors(server: ServerConfig | undefined, dataDir: string): (host: HostRef) => Executor {
  const local = new LocalExecutor({ baseDir: resolve(dataDir, 'workspaces') });
  const ssh = server?.ssh
    ? new SshExecutor({
        user: server.ssh.user,
        privateKeyPath: server.ssh.key,
        knownHostsPath: server.ssh.known_hosts,
        ...(server.ssh.connect_timeout ? { connectTimeoutMs: parseDuration(server.ssh.connect_timeout) } : {}),
        ...(server.ssh.command_timeout ? { maxCommandMs: parseDuration(server.ssh.command_timeout) } : {}),
      })
    : unreachable;
  return (host) => (host.address === 'local' ? local : ssh);
}

/** Without an `ssh` section nothing but `local` can be reached; the server config's checks say so first. */
const unreachable: Executor = {
  open(host): Promise<ExecSession> {
    return Promise.reject(
      new ExecutorError(
        'HOST_UNREACHABLE',
        `host ${host.name} is reached over SSH, but the server config has no ssh section (user, key, known_hosts)`,
      ),
    );
  },
};
